"""`vigil serve` as a real process, for the stories about stopping and killing it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.harness.server import free_port

ROOT = Path(__file__).resolve().parents[2]


class VigilProcess:
    """`vigil serve` against the test's database and fakes; its log goes to a file."""

    def __init__(self, workdir: Path, config: dict[str, Any], env: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "vigil.yaml"
        config_path.write_text(yaml.safe_dump({**config, "playbooks": str(ROOT / "playbooks")}))
        self.log_path = workdir / "vigil.log"
        self.port = free_port()
        self.env = {**os.environ, **env, "VIGIL_CONFIG": str(config_path), "VIGIL_LOG_FORMAT": "json"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> VigilProcess:
        log = self.log_path.open("ab")
        command = [sys.executable, "-c", "from bot.cli import main; main()", "serve"]
        self.proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(30)

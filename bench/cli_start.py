"""How soon a `vigil` command answers: time to its first line of output, on an empty database.

    python -m bench.cli_start [--runs 7]

Each command runs in a fresh interpreter (as an operator's shell runs it), beside
``python -c pass`` timed in the same run; the figure is the median over the runs, and the
target (< 0.4 s) is on the time to first output, which is what the operator waits for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [["investigate", "acct_1"], ["enforcement", "list"], ["--help"]]


def first_output(argv: list[str], env: dict[str, str], cwd: str) -> float:
    """Seconds from start to the first byte on stdout (or exit, if it prints nothing)."""
    started = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd) as proc:
        assert proc.stdout is not None
        proc.stdout.read(1)
        elapsed = time.perf_counter() - started
        proc.stdout.read()
        proc.wait()
    return elapsed


def run(runs: int = 7) -> dict[str, Any]:
    from store import migrate

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/empty.db"
        migrate.upgrade(url)
        (Path(folder) / "vigil.yaml").write_text((ROOT / "vigil.example.yaml").read_text())
        env = {**os.environ, "VIGIL_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        env.pop("VIGIL_CONFIG", None)
        vigil = [sys.executable, "-c", "from bot.cli import main; main(prog_name='vigil')"]
        bare = [sys.executable, "-c", "print()"]
        timings: dict[str, list[float]] = {"python": []}
        for _ in range(runs):  # interleaved, so a noisy neighbour hurts every command alike
            timings["python"].append(first_output(bare, env, folder))
            for args in COMMANDS:
                timings.setdefault(" ".join(args), []).append(first_output([*vigil, *args], env, folder))
    return {name: statistics.median(values) for name, values in timings.items()}


def figures(quick: bool = False) -> list[dict[str, Any]]:
    runs = 3 if quick else 9
    result = run(runs)
    python = result.pop("python")
    return [
        {
            "measure": f"`vigil {name}` start, to first output (empty SQLite)",
            "baseline": f"`python -c 'print()'`: {python:.3f} s",
            "now": f"{seconds:.2f} s",
            "target": "< 0.4 s",
            "note": f"median of {runs} fresh interpreters",
        }
        for name, seconds in result.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    for name, seconds in run(parser.parse_args().runs).items():
        print(f"{name:28} {seconds:.3f} s")


if __name__ == "__main__":
    main()

"""An operator's shell: `vigil` answers at once and each command loads what it uses.

Speed is never timed here (the machine is shared); what a command imports is what makes it
slow, and that is asserted: each command runs in a fresh interpreter that then lists the
modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import COMMANDS, main
from store.db import Database
from tests.harness.world import config_data

ROOT = Path(__file__).resolve().parents[2]

# Run `vigil ARGS` as the entry point does, then report every module the process loaded.
PROBE = """
import json, sys
from bot.cli import main
try:
    main(sys.argv[1:], prog_name="vigil")
finally:
    sys.stderr.write("\\nLOADED " + json.dumps(sorted(sys.modules)) + "\\n")
"""

# Adapters no shell command that only reads or writes the store should pay for.
SLACK_AND_SERVER = (
    "slack_bolt",
    "slack_sdk",
    "bot.runtime",
    "commands",
    "uvicorn",
    "starlette",
    "apscheduler",
)
CHARTS = ("matplotlib", "numpy")
RULE_ENGINE = ("cel", "jinja2", "workflows.playbooks")


def vigil(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The finished command (its stderr without the probe's list) and the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    stderr, _, listed = done.stderr.rpartition("\nLOADED ")
    done.stderr = stderr
    return done, set(json.loads(listed))


def shell(db: Database | None, tmp_path: Path) -> dict[str, str]:
    """An operator's environment: the team's config, no Slack token, no enforcement API."""
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump({**config_data(), "playbooks": str(ROOT / "playbooks")}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VIGIL_"))}
    env["VIGIL_CONFIG"] = str(config)
    env["VIGIL_DATABASE_URL"] = db.url if db else f"sqlite:///{tmp_path / 'none.db'}"
    return env


def test_vigil_help_answers_from_click_alone(tmp_path: Path) -> None:
    done, loaded = vigil(["--help"], shell(None, tmp_path))
    assert done.returncode == 0
    for name, (_module, line) in COMMANDS.items():
        assert f"  {name} " in done.stdout
        assert line[:40] in done.stdout
    heavy = {"sqlalchemy", "pydantic", "yaml", "structlog", "workflows", "store", *SLACK_AND_SERVER}
    assert not heavy & loaded


@pytest.mark.parametrize(
    "args",
    [
        ["investigate", "acct_1"],
        ["anomalies", "detect"],
        ["enforcement", "list"],
        ["audit", "verify"],
        ["db", "current"],
        ["digest", "runs"],
    ],
    ids=" ".join,
)
def test_a_shell_command_on_a_fresh_database_loads_no_slack_charts_or_rules(
    args: list[str], db: Database, tmp_path: Path
) -> None:
    done, loaded = vigil(args, shell(db, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert not {*SLACK_AND_SERVER, *CHARTS, *RULE_ENGINE} & loaded


def test_checking_rules_loads_the_rule_engine_but_not_slack_or_charts(db: Database, tmp_path: Path) -> None:
    done, loaded = vigil(["rules", "check"], shell(db, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: ")
    assert "cel" in loaded
    assert not {*SLACK_AND_SERVER, *CHARTS} & loaded


def test_every_command_module_is_listed_with_its_own_help_line() -> None:
    """`vigil --help` lists COMMANDS without importing them: each line must be the command's own."""
    modules = {p.stem for p in (ROOT / "bot" / "cli").glob("*.py")} - {"__init__", "__main__", "context"}
    assert {module.rsplit(".", 1)[1] for module, _line in COMMANDS.values()} == modules
    with click.Context(main) as ctx:
        for name, (_module, line) in COMMANDS.items():
            command = main.get_command(ctx, name)
            assert command is not None and command.name == name
            assert command.get_short_help_str(200) == line
    assert main.get_command(click.Context(main), "serv") is None


def test_a_broken_config_stops_only_the_commands_that_read_it(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "vigil.yaml"
    data = config_data()
    data["sla"]["P1"] = "soon"
    bad.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("VIGIL_CONFIG", str(bad))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db.url)
    for args in (["audit", "verify"], ["enforcement", "list"], ["db", "current"]):
        assert CliRunner().invoke(main, args).exit_code == 0, args
    for args in (["investigate", "acct_1"], ["rules", "check"], ["digest", "runs"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, args
        assert result.output.startswith("config error: sla.P1: invalid duration 'soon'"), args
        assert len(result.output.strip().splitlines()) == 1, args

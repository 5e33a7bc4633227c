"""The command line a new user meets first."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.logging import REDACTED, configure_logging, scrub


def test_vigil_help_lists_the_commands() -> None:
    vigil = Path(sys.executable).parent / "vigil"  # the installed entry point, as a user runs it
    out = subprocess.run([str(vigil), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("serve", "db", "audit", "doctor"):
        assert command in out


def test_serve_without_tokens_says_which_variables_and_how(monkeypatch) -> None:
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIGIL_CONFIG", "vigil.example.yaml")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET" in result.output
    assert "manifest.yml" in result.output
    socket = CliRunner().invoke(main, ["serve", "--socket-mode"])
    assert "SLACK_APP_TOKEN" in socket.output and "SLACK_SIGNING_SECRET" not in socket.output.splitlines()[0]


def test_a_bad_config_stops_serve_with_one_line_naming_the_key(monkeypatch, tmp_path) -> None:
    bad = tmp_path / "vigil.yaml"
    bad.write_text(Path("vigil.example.yaml").read_text().replace('P1: "1h"', 'P1: "soon"'))
    monkeypatch.setenv("VIGIL_CONFIG", str(bad))
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("config error: sla.P1: invalid duration 'soon'")


def test_logs_never_carry_secrets(capsys) -> None:
    configure_logging("json", "INFO")
    logging.getLogger("vigil.test").warning(
        "calling with xoxb-1234-abcd and Bearer abc.def", extra={"token": "xapp-1-AAA", "user": "U0ANA0001"}
    )
    err = capsys.readouterr().err
    assert "xoxb-1234" not in err and "xapp-1" not in err and "abc.def" not in err
    assert '"user": "U0ANA0001"' in err
    assert scrub({"headers": {"Authorization": "Bearer x"}}) == {"headers": {"Authorization": REDACTED}}

"""The on-call engineer runs Vigil's commands and reads its logs: no plumbing on every
command, a failed job says why, and a command that cannot post says so plainly."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.app import create_bolt_app
from bot.cli import main
from bot.logging import configure_logging
from bot.runtime import build_context
from bot.slack_client import make_client
from store.cases import Case
from store.db import Database
from store.jobs import Job
from tests.harness.report_data import add_case
from tests.harness.vigil import Vigil
from tests.harness.world import BOT_TOKEN
from workflows.clock import FixedClock
from workflows.config import load_config
from workflows.jobs import JobRunner, enqueue

ROOT = Path(__file__).resolve().parents[2]


def log_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


def test_commands_do_not_print_alembics_plumbing_but_upgrades_show_their_steps(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("VIGIL_LOG_FORMAT", "json")
    upgrade = CliRunner().invoke(main, ["db", "upgrade"])
    current = CliRunner().invoke(main, ["db", "current"])
    assert upgrade.exit_code == 0 and current.exit_code == 0, upgrade.output + current.output
    for output in (upgrade.output, current.output):
        assert "Context impl" not in output and "Will assume" not in output
    assert any(line["event"].startswith("Running upgrade") for line in log_lines(upgrade.output))


def test_a_failed_jobs_log_line_says_why_without_its_secrets(
    db: Database, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "INFO")

    def post_card(_payload: dict) -> None:
        raise RuntimeError("Slack answered 503 to chat.postMessage with token=xoxb-1-live-secret")

    runner = JobRunner(db, clock)
    runner.register("card.post", post_card)
    with db.transaction() as session:
        enqueue(session, clock, "card.post", {"case": 1}, key="card:1")
    runner.run_until_idle()
    (failed,) = [line for line in log_lines(capsys.readouterr().err) if line["event"] == "job failed"]
    assert failed["kind"] == "card.post"
    assert failed["error"] == "RuntimeError: Slack answered 503 to chat.postMessage with token=[redacted]"
    assert "live-secret" not in json.dumps(failed)


def test_building_the_slack_app_warns_about_nothing(
    vigil: Vigil, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # SLACK_BOT_TOKEN is in the environment, as in production, and the app is given its client.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    configure_logging("json", "INFO")
    capsys.readouterr()
    client = make_client(BOT_TOKEN, vigil.slack.api_url)
    ctx, client = build_context(
        vigil.ctx.settings, vigil.ctx.config, db=vigil.db, clock=vigil.clock, client=client
    )
    create_bolt_app(ctx, client)
    err = capsys.readouterr().err
    assert "will be unused" not in err
    assert not [line for line in log_lines(err) if line["level"] in ("warning", "error")]
    # Other Bolt warnings still get through.
    logging.getLogger("slack_bolt.App").warning("something else")
    assert "something else" in capsys.readouterr().err


def test_vigil_version_prints_the_installed_version() -> None:
    vigil = Path(sys.executable).parent / "vigil"
    out = subprocess.run([str(vigil), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"vigil {metadata.version('vigil')}"


def test_the_image_gives_matplotlib_a_writable_config_dir() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]  # the image's last stage is what runs
    env = runtime[runtime.index("ENV ") : runtime.index("WORKDIR")]
    assert re.search(r"\bMPLCONFIGDIR=/tmp/matplotlib\b", env)
    assert dockerfile.index("MPLCONFIGDIR") < dockerfile.index("USER vigil")


def test_sla_check_without_a_token_checks_and_says_nothing_was_posted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("VIGIL_CONFIG", str(ROOT / "vigil.example.yaml"))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db.url)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing may be called
    config = load_config(ROOT / "vigil.example.yaml")
    with db.transaction() as session:
        case = add_case(session, config, datetime.now(UTC) - timedelta(days=2), priority="P3")
        ref = f"CASE-{case.id}"
    result = CliRunner().invoke(main, ["sla", "check"])
    assert result.exit_code == 0, result.output
    assert f"breached: {ref}" in result.output
    assert "SLACK_BOT_TOKEN is not set: nothing was posted from here" in result.output
    with db.read() as session:
        assert session.scalars(select(Case.sla_breached_at).where(Case.id == case.id)).one() is not None
        queued = session.scalars(select(Job.status).where(Job.key == f"sla-breach:{case.id}")).all()
    assert queued == ["pending"]  # the running Vigil posts it, once

"""Managers and analysts ask for figures: /vigil report and /vigil digest preview in Slack,
and `vigil digest preview|send|runs` and `vigil report export` on the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.fakes.slack import FakeSlack
from tests.harness.report_data import add_case, add_request
from tests.harness.slack_limits import assert_within_limits
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, BOT_TOKEN, DIGEST, OUTSIDER, config_data

M = timedelta(minutes=1)


def seed(vigil: Vigil) -> None:
    config = vigil.ctx.config
    with vigil.db.transaction() as s:
        # This week (W48, from Monday 00:00 UTC) and last week (W47).
        add_case(s, config, datetime(2026, 11, 23, 8, tzinfo=UTC), category="host_report", priority="P2",
                 claimed_after=5 * M, resolved_after=30 * M)  # fmt: skip
        add_case(s, config, datetime(2026, 11, 23, 9, tzinfo=UTC), category="user_report")
        add_case(
            s, config, datetime(2026, 11, 18, 9, tzinfo=UTC), category="host_report", resolved_after=60 * M
        )
        add_case(s, config, datetime(2026, 10, 20, 9, tzinfo=UTC), category="cx_escalation", resolved_after=M)
        add_request(s, "suspend", ["acct_1", "acct_2"], datetime(2026, 11, 18, 9, tzinfo=UTC),
                    finished=datetime(2026, 11, 18, 10, tzinfo=UTC))  # fmt: skip


def reply(vigil: Vigil, count: int = 1) -> dict:
    return vigil.slack.wait_for("response_url", count=count)[count - 1].args


def test_an_analyst_asks_for_this_weeks_report_privately(vigil: Vigil) -> None:
    seed(vigil)
    assert vigil.send.command("/vigil", "report week", user=ANALYST).status_code == 200
    answer = reply(vigil)
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "2026-W48" in shown and "partial" in shown
    assert "2 (▲ 2 vs last week)" in shown  # Monday so far, against last Monday until 10:00 (none)
    assert_within_limits(answer["blocks"])

    vigil.send.command("/vigil", "report 2026-W47 host_report", user=ANALYST)
    shown = json.dumps(reply(vigil, 2)["blocks"], ensure_ascii=False)
    assert "Host report" in shown and "Suspensions" not in shown  # enforcement is not per category

    vigil.send.command("/vigil", "report month", user=ANALYST)
    assert "November 2026" in json.dumps(reply(vigil, 3)["blocks"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("report fortnight", "I don't know `fortnight`"),
        ("report 2027-W10", "has not started yet"),
        ("report week month", "give one period"),
        ("report 2026-11-20", "per week or month"),
        ("digest send", "only `preview`"),
        ("digest preview 2026-W99", "not a real week"),
    ],
)
def test_bad_report_requests_get_one_private_line(vigil: Vigil, text: str, says: str) -> None:
    vigil.send.command("/vigil", text, user=ANALYST)
    answer = reply(vigil)
    assert answer["response_type"] == "ephemeral" and says in answer["text"] and "Usage:" in answer["text"]


def test_outsiders_cannot_read_reports(vigil: Vigil) -> None:
    refused = vigil.send.command("/vigil", "report week", user=OUTSIDER).json()
    assert refused["response_type"] == "ephemeral" and "analyst" in refused["text"].lower()
    assert not vigil.slack.calls_of("response_url")


def test_digest_preview_in_slack_is_only_for_the_asker(vigil: Vigil) -> None:
    seed(vigil)
    vigil.send.command("/vigil", "digest preview", user=ANALYST)
    answer = reply(vigil)
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Weekly T&S digest · 2026-W47" in shown and "Suspensions" in shown
    assert not [c for c in vigil.slack.calls_of("chat.postMessage") if c.get("channel") == DIGEST]


@pytest.fixture
def cli_env(vigil: Vigil, fake_slack: FakeSlack, tmp_path: Path, monkeypatch) -> Vigil:
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    seed(vigil)
    return vigil


def test_preview_prints_the_digest_and_writes_blocks_and_charts(cli_env: Vigil, tmp_path: Path) -> None:
    out = tmp_path / "preview"
    result = CliRunner().invoke(main, ["digest", "preview", "--week", "2026-W47", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Weekly T&S digest · 2026-W47 (16-22 Nov 2026)" in result.output
    assert "Suspensions: 2" in result.output and "*" not in result.output.splitlines()[0]
    saved = json.loads((out / "weekly-2026-W47.json").read_text())
    assert_within_limits(saved["blocks"])
    for chart in ("daily-volume", "sla-trend"):
        assert (out / f"weekly-2026-W47-{chart}.png").read_bytes().startswith(b"\x89PNG")
    shift = CliRunner().invoke(main, ["digest", "preview", "--digest", "shift", "--day", "2026-11-23"])
    assert shift.exit_code == 0 and "Shift summary" in shift.output
    bad = CliRunner().invoke(main, ["digest", "preview", "--week", "W47"])
    assert (
        bad.exit_code == 2
        and bad.output.strip() == "vigil: 'W47' is not a period: use an ISO week like 2026-W46"
    )


def test_send_posts_once_and_force_posts_again(cli_env: Vigil) -> None:
    vigil = cli_env
    first = CliRunner().invoke(main, ["digest", "send", "--week", "2026-W47"])
    assert first.exit_code == 0, first.output
    assert "posted the weekly digest for 2026-W47" in first.output and "2 chart(s)" in first.output
    again = CliRunner().invoke(main, ["digest", "send", "--week", "2026-W47"])
    assert again.exit_code == 1 and "already posted" in again.output and "--force" in again.output
    forced = CliRunner().invoke(main, ["digest", "send", "--week", "2026-W47", "--force"])
    assert forced.exit_code == 0 and "forced" in forced.output
    posts = [c for c in vigil.slack.calls_of("chat.postMessage") if c.get("channel") == DIGEST]
    assert len(posts) == 2 and len(vigil.slack.calls_of("files.completeUploadExternal")) == 4
    runs = CliRunner().invoke(main, ["digest", "runs"])
    assert "weekly          2026-W47   posted   round 2 attempts 1" in runs.output


def test_export_writes_cases_actions_and_sla_for_spreadsheets(cli_env: Vigil, tmp_path: Path) -> None:
    out = tmp_path / "cases.csv"
    args = ["report", "export", "--since", "2026-11-01", "--until", "2026-11-24", "--format", "csv"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0 and "wrote 3 cases row(s)" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["category"] for r in rows] == ["host_report", "user_report", "host_report"]
    assert rows[0]["sla"] == "met" and rows[0]["minutes_to_claim"] == "5.0"
    assert rows[1]["sla"] == "open" and rows[0]["created_at"] == "2026-11-23T08:00:00+00:00"
    actions = CliRunner().invoke(main, [*args, "--table", "actions"])
    assert [r["account_id"] for r in csv.DictReader(io.StringIO(actions.output))] == ["acct_1", "acct_2"]
    sla = CliRunner().invoke(main, [*args, "--table", "sla"])
    weeks = {(r["week"], r["priority"]): r for r in csv.DictReader(io.StringIO(sla.output))}
    assert weeks[("2026-W47", "all")]["due"] == "1" and weeks[("2026-W48", "P2")]["met"] == "1"
    bad = CliRunner().invoke(main, ["report", "export", "--since", "last tuesday"])
    assert bad.exit_code == 2 and bad.output.startswith("vigil: --since 'last tuesday'")

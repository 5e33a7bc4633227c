"""A T&S day with abuse patterns: a scam campaign arrives as reports from many accounts; Vigil
groups it into one pattern, posts it once to the alerts channel, keeps its id as it grows, and
the team names it, investigates it, drafts a rule from it or calls it not abuse."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.fakes.slack import Call
from bot.scheduler import SCHEDULE
from store.audit import AuditEntry
from store.jobs import Job
from store.patterns import Pattern
from tests.harness.pattern_data import campaign_text, unrelated_text
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ALERTS, ANALYST, ANALYST_2, OUTSIDER, config_data

GIVEAWAY = 3  # the crypto-giveaway template of the synthetic corpus


def send_reports(vigil: Vigil, rows: list[tuple[str, str]], hours_ago: float = 1) -> None:
    at = vigil.clock.now() - timedelta(hours=hours_ago)
    vigil.ctx.signals.ingest(
        [
            {
                "type": "report",
                "account_id": account,
                "occurred_at": (at + timedelta(seconds=n)).isoformat(),
                "attributes": {"text": text, "reason": "scam"},
            }
            for n, (text, account) in enumerate(rows)
        ]
    )


def campaign(rng: random.Random, count: int, first: int = 0) -> list[tuple[str, str]]:
    return [(campaign_text(rng, GIVEAWAY), f"acct_btc_{first + n}") for n in range(count)]


def noise(rng: random.Random, count: int) -> list[tuple[str, str]]:
    return [(unrelated_text(rng), f"acct_other_{n}") for n in range(count)]


def alerts(vigil: Vigil) -> list[Call]:
    return [
        c
        for c in vigil.slack.calls_of("chat.postMessage")
        if c["channel"] == ALERTS and "pattern_not_abuse" in json.dumps(c.get("blocks"))
    ]


def stored(vigil: Vigil) -> list[Pattern]:
    with vigil.db.read() as session:
        return list(session.scalars(select(Pattern).order_by(Pattern.id)))


def posted_pattern(vigil: Vigil) -> Pattern:
    rng = random.Random(1)
    send_reports(vigil, campaign(rng, 8) + noise(rng, 40))
    report = vigil.ctx.patterns.detect()
    assert [p.ref for p in report.queued] == ["PAT-1"]
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)
    eventually(lambda: stored(vigil)[0].message_ts)
    return stored(vigil)[0]


def test_a_campaign_is_one_pattern_posted_once_that_keeps_its_id_as_it_grows(vigil: Vigil) -> None:
    rng = random.Random(1)
    send_reports(vigil, campaign(rng, 8) + noise(rng, 40))
    report = vigil.ctx.patterns.detect()
    (pattern,) = report.new
    assert (pattern.ref, pattern.kind, pattern.size, pattern.account_count) == ("PAT-1", "template", 8, 8)
    assert pattern.day == 8 and pattern.prev_day == 0
    assert "giveaway" in pattern.label and "btc" in pattern.label
    (alert,) = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)
    blocks = json.dumps(alert["blocks"])
    for action in ("pattern_name", "pattern_investigate", "pattern_draft_rule", "pattern_not_abuse"):
        assert action in blocks
    assert "PAT-1" in alert["text"] and "acct_btc_" in blocks
    eventually(lambda: stored(vigil)[0].message_ts)

    # Two hours later the campaign goes on: the same pattern grows, nothing is posted again.
    vigil.clock.advance(timedelta(hours=2))
    send_reports(vigil, campaign(rng, 6, first=8))
    again = vigil.ctx.patterns.detect()
    assert again.new == [] and [p.ref for p in again.grown] == ["PAT-1"]
    assert again.grown[0].size == 14 and again.queued == []
    vigil.slack.wait_for("chat.update", where=lambda c: c["ts"] == stored(vigil)[0].message_ts)
    # A run with nothing new changes nothing.
    assert vigil.ctx.patterns.detect().unchanged == 1
    vigil.run_jobs()
    assert len(alerts(vigil)) == 1 and len(stored(vigil)) == 1
    with vigil.db.read() as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == "PAT-1")).all() == [
            "pattern.detected"
        ]


def test_a_small_slow_pattern_is_watched_and_posted_once_it_grows_fast(vigil: Vigil) -> None:
    rng = random.Random(2)
    send_reports(vigil, campaign(rng, 3), hours_ago=60)  # three, two days ago: watched, not posted
    report = vigil.ctx.patterns.detect()
    assert [p.ref for p in report.new] == ["PAT-1"] and report.queued == []
    vigil.clock.advance(timedelta(hours=1))
    send_reports(vigil, campaign(rng, 4, first=3))  # then four more in one hour: fast-growing
    grown = vigil.ctx.patterns.detect()
    assert [p.ref for p in grown.queued] == ["PAT-1"] and grown.queued[0].day == 4
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)
    vigil.run_jobs()
    assert len(alerts(vigil)) == 1


def test_unrelated_reports_make_no_pattern(vigil: Vigil) -> None:
    send_reports(vigil, noise(random.Random(3), 120))
    report = vigil.ctx.patterns.detect()
    assert report.items == 120 and report.new == [] and stored(vigil) == []


def test_not_abuse_is_told_once_and_only_by_analysts(vigil: Vigil) -> None:
    pattern = posted_pattern(vigil)
    vigil.send.block_action("pattern_not_abuse", str(pattern.id), user=OUTSIDER, channel=ALERTS)
    refusal = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == OUTSIDER)[0]
    assert "only Vigil analysts" in refusal["text"]
    assert stored(vigil)[0].feedback is None

    vigil.send.block_action("pattern_not_abuse", str(pattern.id), user=ANALYST, channel=ALERTS)
    vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST)
    vigil.send.block_action("pattern_not_abuse", str(pattern.id), user=ANALYST_2, channel=ALERTS)
    second = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)[0]
    assert "already marked not abuse" in second["text"]
    assert (stored(vigil)[0].feedback, stored(vigil)[0].feedback_by) == ("not_abuse", ANALYST)
    card = vigil.slack.wait_for("chat.update", where=lambda c: "Not abuse" in json.dumps(c.get("blocks")))[0]
    assert "pattern_draft_rule" not in json.dumps(card["blocks"])


def test_naming_a_pattern_through_the_modal(vigil: Vigil) -> None:
    pattern = posted_pattern(vigil)
    vigil.send.block_action("pattern_name", str(pattern.id), user=ANALYST, channel=ALERTS)
    modal = vigil.slack.wait_for("views.open")[0]
    view = modal["view"] if isinstance(modal["view"], dict) else json.loads(modal["view"])
    assert view["callback_id"] == "pattern_name"
    meta = view["private_metadata"]

    empty = vigil.send.view_submission(
        "pattern_name",
        {"name": {"name": {"type": "plain_text_input", "value": "   "}}},
        private_metadata=meta,
    )
    assert empty.json()["response_action"] == "errors"
    vigil.send.view_submission(
        "pattern_name",
        {"name": {"name": {"type": "plain_text_input", "value": "BTC doubling <!channel> scam"}}},
        private_metadata=meta,
    )
    eventually(lambda: stored(vigil)[0].name == "BTC doubling <!channel> scam")
    updated = vigil.slack.wait_for(
        "chat.update", where=lambda c: "BTC doubling" in json.dumps(c.get("blocks"))
    )
    assert "<!channel>" not in json.dumps(updated[0]["blocks"])  # escaped: no ping
    assert vigil.ctx.patterns.list()[0].title == "BTC doubling <!channel> scam"


def test_open_investigation_of_the_top_account_once(vigil: Vigil) -> None:
    pattern = posted_pattern(vigil)
    vigil.send.block_action("pattern_investigate", str(pattern.id), user=ANALYST, channel=ALERTS)
    eventually(lambda: vigil.ctx.patterns.get(pattern.id, with_outcomes=True).outcomes.linked == ["INV-1"])
    vigil.send.block_action("pattern_investigate", str(pattern.id), user=ANALYST_2, channel=ALERTS)
    second = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)[0]
    assert "INV-1 is already open" in second["text"]
    view = vigil.ctx.patterns.get(pattern.id, with_outcomes=True)
    assert view.outcomes.linked == ["INV-1"]
    assert (view.outcomes.actioned, view.outcomes.reversed, view.outcomes.active) == (0, 0, 8)
    # An investigation opened elsewhere whose findings name the pattern is linked too; PAT-12 is not PAT-1.
    refs = []
    for account, findings in (("acct_btc_5", "part of the PAT-1 ring"), ("acct_btc_6", "see PAT-12")):
        inv = vigil.ctx.investigations.open(account, ANALYST, channel=ALERTS).investigation
        vigil.ctx.investigations.record_outcome(inv.id, ANALYST, "abuse_confirmed", findings)
        refs.append(inv.ref)
    assert vigil.ctx.patterns.get(pattern.id, with_outcomes=True).outcomes.linked == ["INV-1", refs[0]]


def _cli(vigil: Vigil, tmp_path: Path, monkeypatch: Any, *args: str) -> Any:
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return CliRunner().invoke(main, ["patterns", *args])


def test_vigil_patterns_detect_without_a_token_queues_the_alert(
    vigil: Vigil, tmp_path: Path, monkeypatch
) -> None:
    vigil.ctx.jobs.stop()  # the running Vigil is down for a moment: the alert waits for it
    rng = random.Random(4)
    send_reports(vigil, campaign(rng, 6) + noise(rng, 20))
    empty = _cli(vigil, tmp_path, monkeypatch, "list")
    assert "no patterns yet" in empty.output
    result = _cli(vigil, tmp_path, monkeypatch, "detect", "--at", "2026-11-23T10:00:00Z")
    assert result.exit_code == 0, result.output
    assert "new: PAT-1" in result.output and "queued for the running Vigil" in result.output
    with vigil.db.read() as session:
        assert session.scalars(select(Job.kind).where(Job.kind == "pattern.post")).all() == ["pattern.post"]
    assert alerts(vigil) == []
    listed = _cli(vigil, tmp_path, monkeypatch, "list")
    (line,) = listed.output.splitlines()
    assert line.startswith("PAT-1") and "size 6" in line and "+6 today" in line and "crypto" in line
    bad_at = _cli(vigil, tmp_path, monkeypatch, "detect", "--at", "noon")
    assert bad_at.exit_code == 2 and "ISO 8601" in bad_at.output
    shown = _cli(vigil, tmp_path, monkeypatch, "show", "pat-1")
    assert shown.exit_code == 0 and "0 actioned, 0 reversed, 6 still active" in shown.output
    assert _cli(vigil, tmp_path, monkeypatch, "show", "PAT-9").exit_code == 1
    bad = _cli(vigil, tmp_path, monkeypatch, "show", "CASE-1")
    assert bad.exit_code == 2 and "not a pattern id" in bad.output
    linked = _cli(vigil, tmp_path, monkeypatch, "link", "PAT-1", "inv-4", "--by", ANALYST)
    assert linked.exit_code == 0 and "linked INV-4 to PAT-1" in linked.output
    assert "named by: INV-4" in _cli(vigil, tmp_path, monkeypatch, "show", "PAT-1").output
    assert _cli(vigil, tmp_path, monkeypatch, "link", "PAT-1", "CASE-2", "--by", ANALYST).exit_code == 2
    assert _cli(vigil, tmp_path, monkeypatch, "link", "PAT-7", "REQ-2", "--by", ANALYST).exit_code == 1
    # The running Vigil's worker posts it (the CLI queued it on the wall clock, not the test's).
    vigil.clock.advance(datetime.now(UTC) - vigil.clock.now() + timedelta(minutes=1))
    vigil.ctx.jobs.run_until_idle()
    assert len(alerts(vigil)) == 1


def test_the_scheduler_queues_one_detection_per_hour(vigil: Vigil) -> None:
    (_name, trigger, job) = next(entry for entry in SCHEDULE if entry[0] == "detect-patterns")
    assert "minute='20'" in str(trigger(vigil.ctx))
    send_reports(vigil, campaign(random.Random(5), 5))
    job(vigil.ctx)()
    job(vigil.ctx)()  # a second replica's tick in the same hour
    eventually(lambda: len(stored(vigil)) == 1)
    with vigil.db.read() as session:
        assert len(session.scalars(select(Job).where(Job.kind == "pattern.detect")).all()) == 1


def test_the_weekly_digest_shows_the_top_patterns(vigil: Vigil) -> None:
    from commands.blocks.reports import digest_blocks
    from workflows.periods import parse_period

    pattern = posted_pattern(vigil)
    vigil.ctx.patterns.name(pattern.id, "BTC doubling", ANALYST)
    send_reports(vigil, noise(random.Random(6), 10))
    week = parse_period("2026-W48", vigil.clock.now(), vigil.ctx.config.tz)
    report = vigil.ctx.reports.digest(week)
    assert report.patterns is not None
    (top,) = report.patterns
    assert top.title == "PAT-1 BTC doubling" and top.cases == 8 and top.trend == "new"
    _text, blocks = digest_blocks(report)
    assert "PAT-1 BTC doubling" in json.dumps(blocks, ensure_ascii=False)
    # Called not abuse, it leaves the digest.
    vigil.ctx.patterns.not_abuse(pattern.id, ANALYST)
    assert vigil.ctx.reports.digest(week).patterns == []

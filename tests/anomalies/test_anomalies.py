"""Vigil watches the signal volumes: a weekly rhythm is normal, a sudden spike or an outage
is not, and a reason nobody reported before that now leads the reports is a tactic shift.
Each anomaly is posted once, with a chart, and the team's feedback is kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.scheduler import SCHEDULE
from store.anomalies import Anomaly, Incident
from store.audit import AuditEntry
from store.jobs import Job
from tests.harness.signal_data import PNG, history, load, scam_wave
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ALERTS, ANALYST, ANALYST_2, MONDAY, OUTSIDER, config_data
from workflows.anomalies import Anomalies, find_anomalies


def alerts(vigil: Vigil) -> list[Any]:
    """Top-level posts in the alerts channel (closing replies go in the cards' threads)."""
    return [
        c
        for c in vigil.slack.calls_of("chat.postMessage")
        if c["channel"] == ALERTS and not c.get("thread_ts")
    ]


def stored(vigil: Vigil) -> list[Anomaly]:
    with vigil.db.read() as session:
        return list(session.scalars(select(Anomaly).order_by(Anomaly.id)))


def incidents(vigil: Vigil) -> list[Incident]:
    with vigil.db.read() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_the_monday_peak_is_normal_but_a_login_outage_is_not(vigil: Vigil) -> None:
    load(vigil, history())
    report = vigil.ctx.anomalies.detect()
    assert report.hour == MONDAY - timedelta(hours=1)
    # Monday 09:00 had three times the usual reports, as every Monday: no report anomaly.
    assert not [a for a in report.found if a.signal_type == "report"]
    (drop,) = report.found
    assert (drop.signal_type, drop.dimension, drop.kind) == ("login", "", "drop")
    assert (drop.observed, drop.baseline) == (0, 30)
    alert = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert "Drop" in alert["text"] and "login" in alert["text"]


def test_a_scam_wave_alerts_once_with_a_chart_and_buttons(vigil: Vigil) -> None:
    load(vigil, history(logins=False) + scam_wave(MONDAY - timedelta(hours=1)))
    report = vigil.ctx.anomalies.detect()
    found = {(a.signal_type, a.dimension, a.dim_value, a.kind) for a in report.found}
    assert found == {
        ("report", "", "", "spike"),  # 90 reports against the usual Monday 30
        ("report", "country", "US", "spike"),  # where it comes from
        ("report", "reason", "crypto_giveaway", "new_contributor"),  # a tactic shift
    }
    spike = next(a for a in report.found if a.kind == "spike" and not a.dimension)
    assert spike.top_accounts[0] == {"account_id": "acct_scammer_1", "count": 45}
    shift = next(a for a in report.found if a.kind == "new_contributor")
    assert shift.data["share"] == round(60 / 90, 3) and shift.data["previous_top"] == ["harassment", "spam"]

    posted = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS, count=3)
    blocks = json.dumps([c["blocks"] for c in posted])
    for action in ("anomaly_investigate", "anomaly_snooze", "anomaly_dismiss"):
        assert blocks.count(action) == 3
    assert "crypto_giveaway" in blocks and "acct_scammer_1" in blocks
    uploads = vigil.slack.wait_for("files.completeUploadExternal", count=3)
    assert {u["thread_ts"] for u in uploads} == {c.response["ts"] for c in posted}
    assert all(content.startswith(PNG) for content in vigil.slack.uploads.values())
    eventually(lambda: all(i.chart_file_id and i.message_ts for i in incidents(vigil)))
    assert all(a.message_ts for a in stored(vigil))  # each hour points at its incident's card

    # The scheduler on a second replica, and the same replica a minute later: nothing new.
    replica = Anomalies(
        vigil.db, vigil.clock, vigil.ctx.config, vigil.ctx.anomalies.hooks, jobs=vigil.ctx.jobs
    )
    again = replica.detect()
    assert again.found == [] and again.opened == [] and again.known == 3
    vigil.run_jobs()
    eventually(lambda: all(i.chart_file_id for i in incidents(vigil)))
    assert len(alerts(vigil)) == 3 and len(stored(vigil)) == 3 and len(incidents(vigil)) == 3


def test_snoozed_series_are_not_posted_again_and_feedback_is_kept(vigil: Vigil) -> None:
    load(vigil, history(logins=False) + scam_wave(MONDAY - timedelta(hours=1)))
    report = vigil.ctx.anomalies.detect()
    spike = next(i for i in report.opened if i.kind == "spike" and not i.dimension)
    shift = next(i for i in report.opened if i.kind == "new_contributor")
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS, count=3)
    eventually(lambda: all(i.message_ts for i in incidents(vigil)))

    vigil.send.block_action("anomaly_snooze", str(spike.id), user=ANALYST, channel=ALERTS)
    reply = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST)[0]
    assert "Snoozed" in reply["text"]
    vigil.send.block_action("anomaly_dismiss", str(shift.id), user=ANALYST_2, channel=ALERTS)
    vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)
    eventually(lambda: incidents(vigil)[2].feedback)
    snoozed, _us, dismissed = incidents(vigil)
    assert (snoozed.feedback, snoozed.feedback_by) == ("snoozed", ANALYST)
    assert snoozed.snoozed_until == MONDAY + timedelta(hours=24)
    assert (dismissed.feedback, dismissed.feedback_by) == ("not_an_issue", ANALYST_2)
    # The answer is kept on the incident's hours too (the digest counts those).
    assert [a.feedback for a in stored(vigil)] == ["snoozed", None, "not_an_issue"]
    # Chart uploads and the two clicks update messages concurrently: find the snooze's own.
    snoozed_card = vigil.slack.wait_for(
        "chat.update", where=lambda c: "Snoozed 24h" in json.dumps(c.get("blocks"))
    )[0]
    assert "anomaly_snooze" not in json.dumps(snoozed_card["blocks"])
    with vigil.db.read() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"anomaly.snoozed", "anomaly.not_an_issue"} <= actions

    # The wave stops for five hours and comes back: a new episode of a snoozed series is
    # stored, not posted.
    vigil.clock.advance(timedelta(hours=5))
    load(vigil, scam_wave(MONDAY + timedelta(hours=5), count=80))
    vigil.clock.advance(timedelta(hours=1))
    later = vigil.ctx.anomalies.detect()
    assert ("spike", "") in [(a.kind, a.dimension) for a in later.suppressed]
    assert [i.delivery for i in later.opened if i.kind == "spike" and not i.dimension] == ["snoozed"]
    vigil.run_jobs()
    assert ("spike", "") not in [(a.kind, a.dimension) for a in later.found]
    eventually(lambda: len(alerts(vigil)) == 3 + len([i for i in later.opened if i.posted]))
    # The first episodes closed (six quiet hours), each said so in its card's thread.
    assert {i.id for i in later.closed} == {1, 2, 3}
    # A day later the snooze is over.
    vigil.clock.advance(timedelta(hours=25))
    load(vigil, scam_wave(MONDAY + timedelta(hours=30), count=90))
    assert ("spike", "") in [(a.kind, a.dimension) for a in vigil.ctx.anomalies.detect().found]


def test_only_analysts_give_feedback(vigil: Vigil) -> None:
    load(vigil, history())
    (drop,) = vigil.ctx.anomalies.detect().opened
    vigil.send.block_action("anomaly_dismiss", str(drop.id), user=OUTSIDER, channel=ALERTS)
    refusal = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == OUTSIDER)[0]
    assert "only Vigil analysts" in refusal["text"]
    assert incidents(vigil)[0].feedback is None and stored(vigil)[0].feedback is None


def test_a_young_signal_type_gets_no_verdict(vigil: Vigil) -> None:
    load(vigil, history(weeks=1, logins=False) + scam_wave(MONDAY - timedelta(hours=1)))
    report = vigil.ctx.anomalies.detect()
    assert report.found == [] and report.series > 0


def test_the_detector_is_a_pure_function_of_hourly_counts(config) -> None:
    hour = MONDAY - timedelta(hours=1)
    weeks = [hour - timedelta(weeks=k) for k in range(1, 5)]
    steady = {w: 100.0 for w in weeks}
    counts = {
        ("login", "", ""): {**steady, hour: 104.0},  # noise
        ("report", "", ""): {**{w: 20.0 + k for k, w in enumerate(weeks)}, hour: 70.0},  # spike
        ("model_score", "", ""): {**{w: 9.0 for w in weeks}, hour: 30.0},  # under min_count? no: 30 ≥ 10
        ("undeliverable", "", ""): {**{w: 2.0 for w in weeks}, hour: 8.0},  # small: under min_count
    }
    first = {kind: weeks[-1] for kind in ("login", "report", "model_score", "undeliverable")}
    found = {(f.signal_type, f.kind) for f in find_anomalies(counts, first, hour, config)}
    assert found == {("report", "spike"), ("model_score", "spike")}


def test_vigil_anomalies_detect_runs_the_same_detection(vigil: Vigil, tmp_path: Path, monkeypatch) -> None:
    load(vigil, history())
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["anomalies", "detect", "--at", "2026-11-23T10:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "hour judged: 2026-11-23 09:00 UTC" in result.output
    assert "new: Drop: login down to 0" in result.output
    assert "queued" in result.output
    with vigil.db.read() as session:  # for the running Vigil's worker to post
        kinds = session.scalars(select(Job.kind).where(Job.kind.like("anomaly.%"))).all()
        assert kinds == ["anomaly.incident.post"]
    quiet = CliRunner().invoke(main, ["anomalies", "detect", "--at", "2026-11-23T06:30:00Z"])
    assert "no anomalies" in quiet.output
    bad = CliRunner().invoke(main, ["anomalies", "detect", "--at", "noon"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_the_scheduler_runs_detection_every_hour(vigil: Vigil) -> None:
    (_name, trigger, job) = next(entry for entry in SCHEDULE if entry[0] == "detect-anomalies")
    assert "minute='5'" in str(trigger(vigil.ctx))
    load(vigil, history())
    job(vigil.ctx)()
    assert [a.kind for a in stored(vigil)] == ["drop"]

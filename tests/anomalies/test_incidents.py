"""An unusual afternoon is one incident, not six alerts: Vigil posts it once, redraws the card
as it grows, and says in the thread when it is over. Holidays are expected, each series has a
daily alert budget, a recurring shape the team dismissed is remembered (and can be restored),
and two replicas running the same hour post each incident once."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from store.anomalies import AlertDay, Incident, Shape
from store.audit import AuditEntry
from store.jobs import Job
from tests.harness.signal_data import hourly, load
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ALERTS, ANALYST, ANALYST_2, MONDAY, OUTSIDER, config_data
from workflows.anomalies import DetectionReport
from workflows.anomalies import service as anomaly_service
from workflows.anomalies.detect import Finding
from workflows.config import VigilConfig

HOUR = timedelta(hours=1)
START = MONDAY - timedelta(weeks=4)


def reports(start: datetime, end: datetime, extra: dict[datetime, int] | None = None) -> list[dict[str, Any]]:
    """The usual reports per hour (about ten, thirty on Monday 09:00) from ``start`` to ``end``,
    plus ``extra`` reports in some hours (no attributes: only the overall series moves)."""
    rows: list[dict[str, Any]] = []
    at = start
    while at < end:
        for n in range(hourly(at)):
            rows.append(
                {
                    "type": "report",
                    "account_id": f"acct_{n % 9}",
                    "occurred_at": (at + timedelta(minutes=n)).isoformat(),
                    "attributes": {"reason": "spam" if n % 5 < 3 else "harassment", "country": "US"},
                }
            )
        for n in range((extra or {}).get(at, 0)):
            rows.append(
                {
                    "type": "report",
                    "account_id": "acct_flood" if n % 3 else "acct_flood_2",
                    "occurred_at": (at + timedelta(seconds=30 * n)).isoformat(),
                }
            )
        at += HOUR
    return rows


def top_level(vigil: Vigil) -> list[Any]:
    return [
        c
        for c in vigil.slack.calls_of("chat.postMessage")
        if c["channel"] == ALERTS and not c.get("thread_ts")
    ]


def incidents(vigil: Vigil) -> list[Incident]:
    with vigil.db.read() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def audit_actions(vigil: Vigil) -> list[str]:
    with vigil.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def hour_passes(vigil: Vigil, extra: dict[datetime, int] | None = None) -> DetectionReport:
    """The hour from now happens (its usual reports, and ``extra`` ones), then the hourly
    detection judges it, and the worker posts what it queued."""
    at = vigil.clock.now()
    load(vigil, reports(at, at + HOUR, extra))
    vigil.clock.advance(HOUR)
    report = vigil.ctx.anomalies.detect()
    settle(vigil)
    return report


def settle(vigil: Vigil) -> None:
    """Let the job workers finish what the last detection queued (none pending or running)."""
    vigil.run_jobs()

    def idle() -> bool:
        with vigil.db.read() as session:
            busy = session.scalars(select(Job.id).where(Job.status.in_(["pending", "running"]))).first()
        return busy is None

    eventually(idle)


def test_a_six_hour_spike_is_one_incident_updated_in_place_and_closed_in_its_thread(vigil: Vigil) -> None:
    flood = {MONDAY + HOUR * k: n for k, n in enumerate([40, 60, 90, 60, 50, 40])}  # 10:00-15:59
    load(vigil, reports(START, MONDAY))
    reports_by_hour = [hour_passes(vigil, flood) for _ in range(12)]
    first = reports_by_hour[0]
    (incident,) = first.opened
    assert (incident.signal_type, incident.dimension, incident.kind) == ("report", "", "spike")
    assert [len(r.extended) for r in reports_by_hour[1:6]] == [1] * 5
    assert all(not r.opened for r in reports_by_hour[1:])
    # Closed after six quiet hours (16:00-21:00), not one hour earlier.
    assert [r.closed for r in reports_by_hour[:11]] == [[]] * 11
    assert [c.id for c in reports_by_hour[11].closed] == [incident.id]

    (card,) = top_level(vigil)  # posted once
    (row,) = incidents(vigil)
    assert (row.start, row.last_hour, row.hours, row.state) == (MONDAY, MONDAY + 5 * HOUR, 6, "closed")
    assert row.peak_hour == MONDAY + 2 * HOUR and row.peak_observed == 90 + hourly(MONDAY + 2 * HOUR)
    updates = [c for c in vigil.slack.calls_of("chat.update") if c["ts"] == card.response["ts"]]
    assert len(updates) >= 6  # five more hours, then the close
    (shown,) = vigil.slack.posted(ALERTS)
    assert "Closed" in json.dumps(shown["blocks"]) and "6h" in shown["text"] and "at 12:00" in shown["text"]
    (reply,) = vigil.slack.posted(ALERTS, thread_ts=card.response["ts"])
    assert "Closed" in reply["text"] and "back within bounds" in reply["text"]
    assert "6 anomalous hour(s)" in reply["text"]
    # One chart, in the card's thread.
    (upload,) = vigil.slack.calls_of("files.completeUploadExternal")
    assert upload["thread_ts"] == card.response["ts"]


def test_hours_apart_by_more_than_merge_gap_are_two_incidents(vigil: Vigil) -> None:
    # 10:00, then 13:00 (two quiet hours: one episode), then 18:00 (four quiet hours: a new one).
    flood = {MONDAY: 60, MONDAY + 3 * HOUR: 60, MONDAY + 8 * HOUR: 60}
    load(vigil, reports(START, MONDAY))
    for _ in range(9):
        hour_passes(vigil, flood)
    first, second = incidents(vigil)
    assert (first.start, first.last_hour, first.hours) == (MONDAY, MONDAY + 3 * HOUR, 2)
    assert (second.start, second.hours) == (MONDAY + 8 * HOUR, 1)
    assert len(top_level(vigil)) == 2


def label_holiday(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    """Every finding carries the calendar's label, as the detector does for a holiday's hours."""
    detect = anomaly_service.find_anomalies

    def on_a_holiday(*args: Any) -> list[Finding]:
        return [dataclasses.replace(f, expected=f.expected or label) for f in detect(*args)]

    monkeypatch.setattr(anomaly_service, "find_anomalies", on_a_holiday)


def with_calendar(config: VigilConfig, mode: str) -> VigilConfig:
    """``signals.calendar.expected: MODE``; read defensively by incidents, so this works
    whether or not the calendar's config model is there yet."""
    calendar = getattr(config.signals, "calendar", None)
    calendar = (
        calendar.model_copy(update={"expected": mode})
        if calendar is not None
        else SimpleNamespace(expected=mode)
    )
    return config.model_copy(update={"signals": config.signals.model_copy(update={"calendar": calendar})})


def test_a_holiday_is_posted_as_expected_without_alerting(vigil: Vigil, monkeypatch) -> None:
    label_holiday(monkeypatch, "Thanksgiving")
    load(vigil, reports(START, MONDAY))
    (incident,) = hour_passes(vigil, {MONDAY: 80}).opened
    assert (incident.expected, incident.delivery) == ("Thanksgiving", "expected")
    (card,) = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)
    assert card["text"].startswith("expected: Thanksgiving")
    assert "expected: Thanksgiving" in json.dumps(card["blocks"])
    for ping in ("<!here", "<!channel", "<!everyone", "<!subteam"):
        assert ping not in json.dumps(card["blocks"]) and ping not in card["text"]


def test_a_silent_holiday_is_stored_but_not_posted(make_vigil: VigilFactory, config, monkeypatch) -> None:
    label_holiday(monkeypatch, "Thanksgiving")
    vigil = make_vigil(config=with_calendar(config, "silent"))
    load(vigil, reports(START, MONDAY))
    report = hour_passes(vigil, {MONDAY: 80})
    (incident,) = report.opened
    assert (incident.expected, incident.delivery) == ("Thanksgiving", "silent")
    assert [a.kind for a in report.suppressed] == ["spike"] and report.found == []
    assert top_level(vigil) == [] and len(incidents(vigil)) == 1


def test_the_alert_budget_holds_and_the_rest_is_summarised_once(vigil: Vigil) -> None:
    # Five separate floods on Monday, four quiet hours apart (five incidents of one series),
    # and one on Tuesday morning.
    day = MONDAY.replace(hour=0)
    floods = [day + HOUR * h for h in (2, 7, 12, 17, 22)] + [day + timedelta(days=1, hours=3)]
    vigil.clock.set(day + HOUR * 2)
    load(vigil, reports(START, day + HOUR * 2))
    opened = []
    while vigil.clock.now() < day + timedelta(days=1, hours=4):
        opened += hour_passes(vigil, {at: 70 for at in floods}).opened
    assert [i.start for i in opened] == floods
    # Three posts on Monday (max_alerts_per_day), two stored; Tuesday has its own budget.
    assert [i.delivery for i in opened] == ["alert"] * 3 + ["over_budget"] * 2 + ["alert"]
    posted = top_level(vigil)
    cards = [c for c in posted if "Alert budget" not in json.dumps(c["blocks"])]
    (summary,) = [c for c in posted if "Alert budget" in json.dumps(c["blocks"])]  # one per series and day
    assert len(cards) == 4
    assert "1 more incident(s) on 2026-11-23" in summary["text"]
    (shown,) = [m for m in vigil.slack.posted(ALERTS) if m["ts"] == summary.response["ts"]]
    assert "2 more incident(s)" in shown["text"]  # the second overflow redrew the same message
    assert f"incident #{opened[4].id}" in json.dumps(shown["blocks"])
    with vigil.db.read() as session:
        (monday,) = session.scalars(select(AlertDay)).all()  # only a day over budget has a row
    assert (monday.day.isoformat(), monday.posted, monday.overflow) == ("2026-11-23", 3, 2)
    assert monday.message_ts == summary.response["ts"]


# --- "Not an issue" on a recurring shape -------------------------------------------------------
SERIES = ("report", "", "")


def scripted(monkeypatch: pytest.MonkeyPatch, scores: dict[datetime, float]) -> None:
    """The detector's verdicts, hour by hour (spikes of the overall report series): this part
    of Vigil builds on whatever the detector finds, so the stories say exactly what it found."""

    def find(counts: Any, first_seen: Any, hour: datetime, config: VigilConfig) -> list[Finding]:
        if hour not in scores:
            return []
        score = scores[hour]
        return [Finding(*SERIES, "spike", 10 + 5 * score, 10, score, {"history": [10.0, 10.0, 10.0, 10.0]})]

    monkeypatch.setattr(anomaly_service, "find_anomalies", find)


def judge(vigil: Vigil, hour: datetime) -> DetectionReport:
    vigil.clock.set(hour + HOUR)
    report = vigil.ctx.anomalies.detect()
    settle(vigil)
    return report


def card_of(vigil: Vigil, incident_id: int) -> dict[str, Any]:
    row = next(i for i in incidents(vigil) if i.id == incident_id)
    (message,) = [m for m in vigil.slack.posted(ALERTS) if m["ts"] == row.message_ts]
    return message


def click(vigil: Vigil, action: str, value: str, user: str) -> str:
    before = len(vigil.slack.calls_of("chat.postEphemeral"))
    vigil.send.block_action(action, value, user=user, channel=ALERTS)
    replies = vigil.slack.wait_for("chat.postEphemeral", count=before + 1)
    return str(replies[before]["text"])


def test_not_an_issue_on_a_recurring_shape_is_remembered_lowers_sensitivity_and_is_reversible(
    vigil: Vigil, monkeypatch, tmp_path: Path
) -> None:
    # Month-end payouts: every fourth Monday, 14:00-15:59, refund reports jump (score 6).
    payday = [MONDAY + HOUR * 4 + timedelta(weeks=4 * k) for k in range(4)]
    scores = {at + HOUR * h: 6.0 for at in payday for h in (0, 1)}
    scores[payday[2] + HOUR] = 9.0  # the third month the second hour is far louder
    scores[payday[2] + timedelta(days=1)] = 6.0  # and a Tuesday 14:00 like it
    scripted(monkeypatch, scores)

    judge(vigil, payday[0])
    (first,) = judge(vigil, payday[0] + HOUR).extended
    judge(vigil, payday[0] + 7 * HOUR)  # quiet since 16:00: closed
    # A first dismissal: nothing recurs yet, so nothing is remembered.
    reply = click(vigil, "anomaly_dismiss", str(first.id), ANALYST)
    assert "not an issue" in reply and "remembers" not in reply

    judge(vigil, payday[1])
    (second,) = judge(vigil, payday[1] + HOUR).extended
    reply = click(vigil, "anomaly_dismiss", str(second.id), ANALYST_2)
    assert "recurs in the same hours" in reply and "Mon 14:00-16:00 UTC" in reply
    with vigil.db.read() as session:
        (shape,) = session.scalars(select(Shape)).all()
    assert (shape.created_by, shape.incident_id, shape.min_score) == (ANALYST_2, second.id, 8.0)
    assert sorted(map(tuple, shape.slots)) == [(0, 14), (0, 15)]
    card = eventually(
        lambda: (c := card_of(vigil, second.id)) and "Recurring shape" in json.dumps(c["blocks"]) and c
    )
    blocks = json.dumps(card["blocks"])
    assert f"<@{ANALYST_2}>" in blocks and "anomaly_restore" in blocks and "anomaly_dismiss" not in blocks
    assert {"anomaly.not_an_issue", "anomaly.shape_remembered"} <= set(audit_actions(vigil))

    # Next time, the same hours at the same loudness are muted; louder ones and other hours are not.
    judge(vigil, second.last_hour + 7 * HOUR)
    posts = len(top_level(vigil))
    muted = judge(vigil, payday[2])
    assert (muted.muted, muted.opened) == (1, [])
    louder = judge(vigil, payday[2] + HOUR)
    assert [i.peak_score for i in louder.opened] == [9.0]
    tuesday = judge(vigil, payday[2] + timedelta(days=1))
    assert len(tuesday.opened) == 1
    assert len(top_level(vigil)) == posts + 2

    # Someone restores the usual sensitivity: on the card, once.
    assert "Restored the usual sensitivity" in click(vigil, "anomaly_restore", str(shape.id), ANALYST)
    assert "already forgotten" in click(vigil, "anomaly_restore", str(shape.id), ANALYST_2)
    card = eventually(
        lambda: (c := card_of(vigil, second.id)) and "forgotten" in json.dumps(c["blocks"]) and c
    )
    assert "anomaly_restore" not in json.dumps(card["blocks"])
    assert audit_actions(vigil).count("anomaly.shape_forgotten") == 1
    judge(vigil, payday[2] + timedelta(days=1, hours=7))
    assert len(judge(vigil, payday[3]).opened) == 1  # alerts again as before

    # The CLI lists it (with who forgot it) and refuses to forget it twice.
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    listed = CliRunner().invoke(main, ["anomalies", "shapes", "list", "--all"])
    assert listed.exit_code == 0 and f"forgotten by {ANALYST}" in listed.output
    assert "no remembered shapes" in CliRunner().invoke(main, ["anomalies", "shapes", "list"]).output
    again = CliRunner().invoke(main, ["anomalies", "shapes", "forget", str(shape.id)])
    assert again.exit_code == 1 and "already forgotten" in again.output


def test_vigil_anomalies_shapes_forget_restores_sensitivity(
    vigil: Vigil, monkeypatch, tmp_path: Path
) -> None:
    payday = [MONDAY + HOUR * 4 + timedelta(weeks=4 * k) for k in range(3)]
    scripted(monkeypatch, dict.fromkeys(payday, 6.0))
    for at in payday[:2]:
        judge(vigil, at)
        judge(vigil, at + 7 * HOUR)
    second = incidents(vigil)[1]
    click(vigil, "anomaly_dismiss", str(second.id), ANALYST)
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    listed = CliRunner().invoke(main, ["anomalies", "shapes", "list"])
    assert listed.exit_code == 0 and "report\tspike\tMon 14:00-15:00 UTC\t8" in listed.output
    assert ANALYST in listed.output
    bad = CliRunner().invoke(main, ["anomalies", "shapes", "forget", "one"])
    assert bad.exit_code == 2 and "not a number" in bad.output
    unknown = CliRunner().invoke(main, ["anomalies", "shapes", "forget", "99"])
    assert unknown.exit_code == 1 and "no shape 99" in unknown.output
    forgot = CliRunner().invoke(main, ["anomalies", "shapes", "forget", "1", "--by", "ops-oncall"])
    assert forgot.exit_code == 0 and "alerts as usual in Mon 14:00-15:00 UTC" in forgot.output
    with vigil.db.read() as session:
        assert session.scalars(select(Shape.forgotten_by)).one() == "ops-oncall"
    assert len(judge(vigil, payday[2]).opened) == 1


def test_only_analysts_answer_and_a_double_click_answers_once(vigil: Vigil, monkeypatch) -> None:
    scripted(monkeypatch, {MONDAY: 6.0})
    (incident,) = judge(vigil, MONDAY).opened
    assert "only Vigil analysts" in click(vigil, "anomaly_dismiss", str(incident.id), OUTSIDER)
    assert "only Vigil analysts" in click(vigil, "anomaly_snooze", str(incident.id), OUTSIDER)
    assert incidents(vigil)[0].feedback is None
    assert "Snoozed" in click(vigil, "anomaly_snooze", str(incident.id), ANALYST)
    assert "already has an answer: Snoozed 24h" in click(vigil, "anomaly_snooze", str(incident.id), ANALYST_2)
    # "Not an issue" still may follow a snooze (the team looked into it), once.
    assert "not an issue" in click(vigil, "anomaly_dismiss", str(incident.id), ANALYST)
    assert "already has an answer" in click(vigil, "anomaly_dismiss", str(incident.id), ANALYST_2)
    assert audit_actions(vigil).count("anomaly.snoozed") == 1
    assert audit_actions(vigil).count("anomaly.not_an_issue") == 1
    assert "no longer exists" in click(vigil, "anomaly_dismiss", "not-a-number", ANALYST)
    assert "no longer exists" in click(vigil, "anomaly_restore", "42", ANALYST)


# --- replicas ------------------------------------------------------------------------------
def test_two_replicas_running_the_same_hours_post_each_incident_once(make_vigil: VigilFactory) -> None:
    one, two = make_vigil(), make_vigil()
    flood = {MONDAY: 60, MONDAY + HOUR: 80}
    load(one, reports(START, MONDAY))
    for _ in range(8):
        at = one.clock.now()
        load(one, reports(at, at + HOUR, flood))
        one.clock.advance(HOUR)  # one clock: both replicas judge the same hour
        runs = [threading.Thread(target=replica.ctx.anomalies.detect) for replica in (one, two)]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        one.run_jobs()
        two.run_jobs()
        settle(one)
    (incident,) = incidents(one)
    assert (incident.hours, incident.state) == (2, "closed")
    (card,) = top_level(one)
    assert card.response["ts"] == incident.message_ts
    (reply,) = one.slack.posted(ALERTS, thread_ts=incident.message_ts)
    assert "Closed" in reply["text"]
    assert len(one.slack.calls_of("files.completeUploadExternal")) == 1


def test_incident_settings_are_validated_by_name() -> None:
    from workflows.config import ConfigError, parse_config

    data = config_data()
    data["signals"] = {"anomalies": {"merge_gap": "3h", "close_after": "2h"}}
    with pytest.raises(ConfigError, match="close_after must be longer than merge_gap"):
        parse_config(data)
    data["signals"] = {"anomalies": {"max_alerts_per_day": 0}}
    with pytest.raises(ConfigError, match="max_alerts_per_day"):
        parse_config(data)
    data["signals"] = {"anomalies": {"merge_gap": "soon"}}
    with pytest.raises(ConfigError, match="merge_gap"):
        parse_config(data)
    data["signals"] = {"anomalies": {"merge_gap": "1h", "close_after": "12h", "max_alerts_per_day": 5}}
    settings = parse_config(data).signals.anomalies
    assert (settings.merge_gap, settings.close_after, settings.max_alerts_per_day) == (
        timedelta(hours=1),
        timedelta(hours=12),
        5,
    )

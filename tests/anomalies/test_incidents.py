"""An unusual afternoon is one incident, not six alerts: Vigil posts it once, redraws the card
as it grows, and says in the thread when it is over. Holidays are expected, each series has a
daily alert budget, a recurring shape the team dismissed is remembered (and can be restored),
and two replicas running the same hour post each incident once."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from store.anomalies import AlertDay, Incident
from store.audit import AuditEntry
from store.jobs import Job
from tests.harness.signal_data import hourly, load
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ALERTS, MONDAY
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
        monday, tuesday = session.scalars(select(AlertDay).order_by(AlertDay.day)).all()
    assert (monday.posted, monday.overflow, monday.message_ts) == (3, 2, summary.response["ts"])
    assert (tuesday.posted, tuesday.overflow, tuesday.message_ts) == (1, 0, None)

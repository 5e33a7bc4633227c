"""Episodes: the detector's hourly findings grouped into incidents.

Consecutive anomalous hours of one series and kind, with gaps of at most ``merge_gap``, are one
incident: opened by its first hour, extended by the next ones (peak, duration), closed once the
series has been back within bounds for ``close_after``. Whether an incident is posted is decided
once, when it opens: a calendar-expected one is posted quietly or not at all
(``signals.calendar.expected``), a snoozed series is not posted, and each series spends at most
``max_alerts_per_day`` posts a day; the rest is summarised in one message per series and day.

Replicas agree because every step is a conditional write the database arbitrates: the hour's
anomaly row is unique (only its first writer attaches it), an incident's key is unique, an
extension only moves ``last_hour`` forward, a close only closes an open incident, and the
day's budget is a conditional increment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from store import anomalies as store
from store.anomalies import Anomaly, Incident, Shape
from workflows.anomalies.detect import HOUR, Finding
from workflows.anomalies.views import IncidentView, incident_view
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import enqueue

JOB_INCIDENT_POST = "anomaly.incident.post"
JOB_INCIDENT_UPDATE = "anomaly.incident.update"
JOB_INCIDENT_CLOSE = "anomaly.incident.close"
JOB_BUDGET_POST = "anomaly.budget.post"
JOB_BUDGET_UPDATE = "anomaly.budget.update"

POSTED = ("alert", "expected")


def expected_mode(config: VigilConfig) -> str:
    """``quiet`` (post, labelled, without alerting) or ``silent`` (store only). Read defensively:
    the calendar's settings belong to the detector's config (issue #13's other half)."""
    calendar = getattr(config.signals, "calendar", None)
    mode = getattr(calendar, "expected", None) or "quiet"
    return "silent" if mode == "silent" else "quiet"


def slot(hour: datetime) -> tuple[int, int]:
    return hour.weekday(), hour.hour


def slots_of(start: datetime, last: datetime) -> set[tuple[int, int]]:
    """The weekday-hours an episode covered."""
    return {slot(start + HOUR * k) for k in range(int((last - start) / HOUR) + 1)}


def muted_by(finding: Finding, hour: datetime, shapes: list[Shape]) -> Shape | None:
    """The dismissed shape that keeps this finding quiet: same series and kind, same weekday
    and hour, and not louder than the shape's raised threshold."""
    at = list(slot(hour))
    for shape in shapes:
        same = (shape.signal_type, shape.dimension, shape.dim_value, shape.kind) == (
            finding.signal_type,
            finding.dimension,
            finding.dim_value,
            finding.kind,
        )
        # A new top contributor has no score to raise: the shape mutes it in its hours.
        quiet = finding.kind == "new_contributor" or abs(finding.score) < shape.min_score
        if same and quiet and at in [list(s) for s in shape.slots]:
            return shape
    return None


@dataclass
class Attached:
    incident: IncidentView
    opened: bool
    posted: bool  # the incident's card is (or will be) in the alerts channel


@dataclass
class Episodes:
    """One detection run's view of the incidents: what it opened, extended and closed."""

    session: Session
    clock: Clock
    config: VigilConfig
    opened: list[IncidentView] = field(default_factory=list)
    extended: list[IncidentView] = field(default_factory=list)
    closed: list[IncidentView] = field(default_factory=list)

    @property
    def settings(self) -> Any:
        return self.config.signals.anomalies

    def attach(self, anomaly: Anomaly, finding: Finding, hour: datetime) -> Attached:
        """Adds the hour's anomaly (stored by this run) to its series' open incident, or opens one."""
        series = (finding.signal_type, finding.dimension, finding.dim_value)
        current = store.latest_open_incident(self.session, series, finding.kind)
        if (
            current is not None
            and hour > current.last_hour
            and hour - current.last_hour <= self.settings.merge_gap + HOUR
        ):
            peak = None
            if abs(finding.score) > abs(current.peak_score):
                peak = self._peak(anomaly, finding, hour)
            if finding.expected and not current.expected:
                peak = {**(peak or {}), "expected": finding.expected}
            if store.extend_incident(self.session, current.id, hour, peak):
                self.session.refresh(current)
                view = incident_view(current)
                self.extended.append(view)
                if current.delivery in POSTED:
                    enqueue(
                        self.session,
                        self.clock,
                        JOB_INCIDENT_UPDATE,
                        {"incident_id": current.id},
                        key=f"anomaly-incident-update:{current.id}:{hour:%Y-%m-%dT%H}",
                    )
                return Attached(view, opened=False, posted=current.delivery in POSTED)
        return self._open(anomaly, finding, hour, series)

    def _peak(self, anomaly: Anomaly, finding: Finding, hour: datetime) -> dict[str, Any]:
        return {
            "peak_score": round(finding.score, 3),
            "peak_observed": finding.observed,
            "peak_baseline": finding.baseline,
            "peak_hour": hour,
            "peak_anomaly_id": anomaly.id,
            "data": dict(anomaly.data or {}),
        }

    def _open(
        self, anomaly: Anomaly, finding: Finding, hour: datetime, series: tuple[str, str, str]
    ) -> Attached:
        now = self.clock.now()
        key = f"{finding.key_part}|{hour:%Y-%m-%dT%H}"
        values: dict[str, Any] = {
            "key": key,
            "signal_type": finding.signal_type,
            "dimension": finding.dimension,
            "dim_value": finding.dim_value,
            "kind": finding.kind,
            "start": hour,
            "last_hour": hour,
            "hours": 1,
            "expected": finding.expected,
            "state": "open",
            "delivery": "alert",
            "opened_at": now,
            **self._peak(anomaly, finding, hour),
        }
        if not store.insert_incident(self.session, values):
            incident = store.incident_by_key(self.session, key)  # another replica opened it
            return Attached(incident_view(incident), opened=False, posted=incident.delivery in POSTED)
        incident = store.incident_by_key(self.session, key)
        incident.delivery, incident.alert_day_id = self._delivery(incident, series, finding, now)
        self.session.flush()
        if incident.delivery in POSTED:
            enqueue(
                self.session,
                self.clock,
                JOB_INCIDENT_POST,
                {"incident_id": incident.id},
                key=f"anomaly-incident-post:{incident.id}",
            )
        elif incident.delivery == "over_budget" and incident.alert_day_id is not None:
            overflow = store.count_overflow(self.session, incident.alert_day_id)
            payload = {"day_id": incident.alert_day_id}
            enqueue(
                self.session,
                self.clock,
                JOB_BUDGET_POST,
                payload,
                key=f"anomaly-budget-post:{incident.alert_day_id}",
            )
            enqueue(
                self.session,
                self.clock,
                JOB_BUDGET_UPDATE,
                payload,
                key=f"anomaly-budget-update:{incident.alert_day_id}:{overflow}",
            )
        view = incident_view(incident)
        self.opened.append(view)
        return Attached(view, opened=True, posted=incident.delivery in POSTED)

    def _delivery(
        self, incident: Incident, series: tuple[str, str, str], finding: Finding, now: datetime
    ) -> tuple[str, int | None]:
        if finding.expected and expected_mode(self.config) == "silent":
            return "silent", None
        if store.series_kind_snoozed(self.session, series, finding.kind, now):
            return "snoozed", None
        day = store.alert_day(self.session, series, self.day_of(incident.start))
        if not store.take_alert(self.session, day.id, self.settings.max_alerts_per_day):
            return "over_budget", day.id
        return ("expected" if finding.expected else "alert"), day.id

    def day_of(self, hour: datetime) -> date:
        return hour.astimezone(self.config.tz).date()

    def close_quiet(self, hour: datetime) -> None:
        """Closes the incidents whose series has been within bounds for ``close_after`` up to
        and including ``hour`` (the hour this run judged)."""
        quiet_since = hour - self.settings.close_after
        for incident in store.stale_open_incidents(self.session, quiet_since):
            if not store.close_incident(self.session, incident.id, self.clock.now()):
                continue  # another replica closed it
            self.session.refresh(incident)
            self.closed.append(incident_view(incident))
            if incident.delivery in POSTED:
                enqueue(
                    self.session,
                    self.clock,
                    JOB_INCIDENT_CLOSE,
                    {"incident_id": incident.id},
                    key=f"anomaly-incident-close:{incident.id}",
                )

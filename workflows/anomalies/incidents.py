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
from datetime import UTC, date, datetime, time, timedelta
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
    """One detection run's view of the incidents: what it opened, extended and closed.

    What every finding asks (the open incidents, the snoozed series, the day's spent budget)
    is read once per run, so judging an hour costs a few statements per finding, not a few
    per question. Only the first writer of an hour's anomaly attaches it (its key is unique),
    and a series has at most one finding an hour, so nobody else moves these rows meanwhile.
    """

    session: Session
    clock: Clock
    config: VigilConfig
    opened: list[IncidentView] = field(default_factory=list)
    extended: list[IncidentView] = field(default_factory=list)
    closed: list[IncidentView] = field(default_factory=list)
    _open: dict[tuple[str, str, str, str], Incident] | None = None
    _snoozed: set[tuple[str, str, str, str]] = field(default_factory=set)
    _spent: dict[date, dict[tuple[str, str, str], int]] = field(default_factory=dict)

    @property
    def settings(self) -> Any:
        return self.config.signals.anomalies

    def _open_incidents(self) -> dict[tuple[str, str, str, str], Incident]:
        if self._open is None:
            self._open = store.open_incidents(self.session)
            self._snoozed = store.snoozed_series(self.session, self.clock.now())
        return self._open

    def attach(self, anomaly: Anomaly, finding: Finding, hour: datetime) -> Attached:
        """Adds the hour's anomaly (stored by this run) to its series' open incident, or opens one."""
        key = (finding.signal_type, finding.dimension, finding.dim_value, finding.kind)
        current = self._open_incidents().get(key)
        if (
            current is None
            or hour <= current.last_hour
            or hour - current.last_hour > self.settings.merge_gap + HOUR
        ):
            return self._start(anomaly, finding, hour)
        current.last_hour = hour
        current.hours += 1
        if abs(finding.score) > abs(current.peak_score):
            for name, value in self._peak(anomaly, finding, hour).items():
                setattr(current, name, value)
        if finding.expected and not current.expected:
            current.expected = finding.expected
        self.session.flush()
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

    def _peak(self, anomaly: Anomaly, finding: Finding, hour: datetime) -> dict[str, Any]:
        return {
            "peak_score": round(finding.score, 3),
            "peak_observed": finding.observed,
            "peak_baseline": finding.baseline,
            "peak_hour": hour,
            "peak_anomaly_id": anomaly.id,
            "data": dict(anomaly.data or {}),
        }

    def _start(self, anomaly: Anomaly, finding: Finding, hour: datetime) -> Attached:
        series = (finding.signal_type, finding.dimension, finding.dim_value)
        delivery, day_id = self._delivery(series, finding, hour)
        incident = Incident(
            key=f"{finding.key_part}|{hour:%Y-%m-%dT%H}",
            signal_type=finding.signal_type,
            dimension=finding.dimension,
            dim_value=finding.dim_value,
            kind=finding.kind,
            start=hour,
            last_hour=hour,
            hours=1,
            expected=finding.expected,
            state="open",
            delivery=delivery,
            alert_day_id=day_id,
            opened_at=self.clock.now(),
            **self._peak(anomaly, finding, hour),
        )
        self.session.add(incident)
        self.session.flush()
        self._open_incidents()[(*series, finding.kind)] = incident
        if delivery in POSTED:
            enqueue(
                self.session,
                self.clock,
                JOB_INCIDENT_POST,
                {"incident_id": incident.id},
                key=f"anomaly-incident-post:{incident.id}",
            )
        view = incident_view(incident)
        self.opened.append(view)
        return Attached(view, opened=True, posted=delivery in POSTED)

    def _delivery(
        self, series: tuple[str, str, str], finding: Finding, hour: datetime
    ) -> tuple[str, int | None]:
        if finding.expected and expected_mode(self.config) == "silent":
            return "silent", None
        if (*series, finding.kind) in self._snoozed:
            return "snoozed", None
        day = self.day_of(hour)
        spent = self._spent_on(day)
        if spent.get(series, 0) < self.settings.max_alerts_per_day:
            spent[series] = spent.get(series, 0) + 1
            return ("expected" if finding.expected else "alert"), None
        budget = store.alert_day(self.session, series, day)
        overflow = store.record_overflow(self.session, budget.id, spent[series])
        payload = {"day_id": budget.id}
        enqueue(self.session, self.clock, JOB_BUDGET_POST, payload, key=f"anomaly-budget-post:{budget.id}")
        enqueue(
            self.session,
            self.clock,
            JOB_BUDGET_UPDATE,
            payload,
            key=f"anomaly-budget-update:{budget.id}:{overflow}",
        )
        return "over_budget", budget.id

    def _spent_on(self, day: date) -> dict[tuple[str, str, str], int]:
        """Incidents posted per series on ``day`` (the config's timezone), read once a run."""
        if day not in self._spent:
            zone = self.config.tz
            start = datetime.combine(day, time(0), zone).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            self._spent[day] = store.posted_between(self.session, start, end)
        return self._spent[day]

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

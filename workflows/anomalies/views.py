"""What adapters render of anomalies: the alert's view, its chart data, detection and
feedback results, and the weekly digest's numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from store import anomalies as store
from store.anomalies import AlertDay, Anomaly, Incident, Shape
from workflows.anomalies.detect import HOUR, WEEK

KINDS = {"spike": "Spike", "drop": "Drop", "new_contributor": "New top contributor"}
FEEDBACK = {"snoozed": "Snoozed 24h", "not_an_issue": "Not an issue", "investigated": "Investigated"}


class _SeriesNames:
    """How an hour's anomaly and an incident name their series, kind and top accounts: the same
    words on the alert card, in the CLI and in the digest."""

    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    data: dict[str, Any]

    @property
    def series(self) -> str:
        where = f" {self.dimension}={self.dim_value}" if self.dimension else ""
        return f"{self.signal_type}{where}"

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def top_accounts(self) -> list[dict[str, Any]]:
        return list(self.data.get("top_accounts") or [])


@dataclass(frozen=True)
class AnomalyView(_SeriesNames):
    id: int
    key: str
    bucket: datetime
    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    observed: float
    baseline: float
    score: float
    data: dict[str, Any]
    detected_at: datetime
    status: str
    feedback: str | None
    feedback_by: str | None
    feedback_at: datetime | None
    snoozed_until: datetime | None
    channel: str | None
    message_ts: str | None

    @property
    def ref(self) -> str:
        return f"anomaly #{self.id}"

    def summary(self) -> str:
        """One plain line (ids and numbers only, never user text)."""
        when = self.bucket.strftime("%Y-%m-%d %H:00 UTC")
        if self.kind == "new_contributor":
            share = round(100 * float(self.data.get("share", 0)))
            return (
                f"{self.kind_label}: {self.series} is {share}% of {self.signal_type} "
                f"({self.observed:g} in the hour of {when}); never in the top before"
            )
        direction = "up" if self.kind == "spike" else "down"
        return (
            f"{self.kind_label}: {self.series} {direction} to {self.observed:g} in the hour of {when} "
            f"(usual {self.baseline:g}, score {self.score:+.1f})"
        )


def view_of(anomaly: Anomaly) -> AnomalyView:
    return AnomalyView(
        id=anomaly.id,
        key=anomaly.key,
        bucket=anomaly.bucket,
        signal_type=anomaly.signal_type,
        dimension=anomaly.dimension,
        dim_value=anomaly.dim_value,
        kind=anomaly.kind,
        observed=anomaly.observed,
        baseline=anomaly.baseline,
        score=anomaly.score,
        data=dict(anomaly.data or {}),
        detected_at=anomaly.detected_at,
        status=anomaly.status,
        feedback=anomaly.feedback,
        feedback_by=anomaly.feedback_by,
        feedback_at=anomaly.feedback_at,
        snoozed_until=anomaly.snoozed_until,
        channel=anomaly.channel,
        message_ts=anomaly.message_ts,
    )


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    observed: float
    baseline: float | None


@dataclass(frozen=True)
class ChartData:
    title: str
    points: list[ChartPoint]
    highlight: datetime


def chart_of(series: str, end: datetime, by_hour: dict[datetime, float], hours: int, weeks: int) -> ChartData:
    """The series over the last ``hours`` up to ``end``, each point beside its baseline (the
    median of the same hour in the previous ``weeks`` weeks)."""
    start = end - HOUR * (hours - 1)
    points = []
    for step in range(hours):
        at = start + HOUR * step
        history = [by_hour.get(at - WEEK * k, 0.0) for k in range(1, weeks + 1)]
        points.append(ChartPoint(at, by_hour.get(at, 0.0), statistics.median(history)))
    return ChartData(title=f"{series} per hour", points=points, highlight=end)


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
DELIVERY = {
    "alert": "posted",
    "expected": "posted as expected",
    "silent": "expected, not posted",
    "over_budget": "over the day's alert budget, summarised",
    "snoozed": "series snoozed, not posted",
}


@dataclass(frozen=True)
class ShapeView:
    id: int
    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    slots: list[tuple[int, int]]
    min_score: float
    incident_id: int
    created_by: str
    created_at: datetime
    forgotten_by: str | None
    forgotten_at: datetime | None

    @property
    def series(self) -> str:
        where = f" {self.dimension}={self.dim_value}" if self.dimension else ""
        return f"{self.signal_type}{where}"

    @property
    def active(self) -> bool:
        return self.forgotten_at is None

    def when(self) -> str:
        """The weekday-hours it covers, e.g. ``Mon 09:00-11:00 UTC``."""
        by_day: dict[int, list[int]] = {}
        for weekday, hour in sorted(self.slots):
            by_day.setdefault(weekday, []).append(hour)
        parts = [f"{WEEKDAYS[d]} {min(h):02d}:00-{max(h) + 1:02d}:00" for d, h in by_day.items()]
        return ", ".join(parts) + " UTC"


def shape_view(shape: Shape) -> ShapeView:
    return ShapeView(
        id=shape.id,
        signal_type=shape.signal_type,
        dimension=shape.dimension,
        dim_value=shape.dim_value,
        kind=shape.kind,
        slots=[(int(d), int(h)) for d, h in shape.slots],
        min_score=shape.min_score,
        incident_id=shape.incident_id,
        created_by=shape.created_by,
        created_at=shape.created_at,
        forgotten_by=shape.forgotten_by,
        forgotten_at=shape.forgotten_at,
    )


@dataclass(frozen=True)
class IncidentView(_SeriesNames):
    """One episode of a series and kind: what its card shows."""

    id: int
    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    start: datetime
    last_hour: datetime
    hours: int
    peak_score: float
    peak_observed: float
    peak_baseline: float
    peak_hour: datetime
    peak_anomaly_id: int | None
    expected: str | None
    state: str
    delivery: str
    opened_at: datetime
    closed_at: datetime | None
    feedback: str | None
    feedback_by: str | None
    feedback_at: datetime | None
    snoozed_until: datetime | None
    data: dict[str, Any]
    channel: str | None
    message_ts: str | None
    shape: ShapeView | None = None

    @property
    def ref(self) -> str:
        return f"incident #{self.id}"

    @property
    def posted(self) -> bool:
        return self.delivery in ("alert", "expected")

    @property
    def duration_hours(self) -> int:
        """From the first to the last anomalous hour, both counted."""
        return int((self.last_hour - self.start) / HOUR) + 1

    def summary(self) -> str:
        """One plain line (ids and numbers only, never user text)."""
        start = self.start.strftime("%Y-%m-%d %H:00 UTC")
        peak = self.peak_hour.strftime("%H:00")
        expected = f"expected: {self.expected} · " if self.expected else ""
        if self.kind == "new_contributor":
            share = round(100 * float(self.data.get("share", 0)))
            body = f"{self.series} up to {share}% of {self.signal_type}; never in the top before"
        else:
            direction = "up" if self.kind == "spike" else "down"
            body = (
                f"{self.series} {direction} to {self.peak_observed:g} at {peak} "
                f"(usual {self.peak_baseline:g}, peak score {self.peak_score:+.1f})"
            )
        return f"{expected}{self.kind_label}: {body}, since {start}, {self.duration_hours}h"

    def state_line(self) -> str:
        if self.state == "closed" and self.closed_at is not None:
            back = (self.last_hour + HOUR).strftime("%Y-%m-%d %H:00 UTC")
            return f"Closed: back within bounds since {back}"
        return f"Ongoing: {self.hours} anomalous hour(s), last {self.last_hour:%Y-%m-%d %H:00} UTC"


def incident_view(incident: Incident, shape: Shape | None = None) -> IncidentView:
    return IncidentView(
        id=incident.id,
        signal_type=incident.signal_type,
        dimension=incident.dimension,
        dim_value=incident.dim_value,
        kind=incident.kind,
        start=incident.start,
        last_hour=incident.last_hour,
        hours=incident.hours,
        peak_score=incident.peak_score,
        peak_observed=incident.peak_observed,
        peak_baseline=incident.peak_baseline,
        peak_hour=incident.peak_hour,
        peak_anomaly_id=incident.peak_anomaly_id,
        expected=incident.expected,
        state=incident.state,
        delivery=incident.delivery,
        opened_at=incident.opened_at,
        closed_at=incident.closed_at,
        feedback=incident.feedback,
        feedback_by=incident.feedback_by,
        feedback_at=incident.feedback_at,
        snoozed_until=incident.snoozed_until,
        data=dict(incident.data or {}),
        channel=incident.channel,
        message_ts=incident.message_ts,
        shape=shape_view(shape) if shape is not None else None,
    )


@dataclass(frozen=True)
class BudgetView:
    """A series' day over its alert budget: the incidents stored but not posted."""

    id: int
    series: str
    day: date
    posted: int
    overflow: list[IncidentView]
    channel: str | None
    message_ts: str | None


def budget_view(day: AlertDay, overflow: list[Incident]) -> BudgetView:
    where = f" {day.dimension}={day.dim_value}" if day.dimension else ""
    return BudgetView(
        id=day.id,
        series=f"{day.signal_type}{where}",
        day=day.day,
        posted=day.posted,
        overflow=[incident_view(i) for i in overflow],
        channel=day.channel,
        message_ts=day.message_ts,
    )


@dataclass
class DetectionReport:
    hour: datetime
    found: list[AnomalyView] = field(default_factory=list)  # stored by this run, posted or updated
    suppressed: list[AnomalyView] = field(default_factory=list)  # stored, their incident not posted
    known: int = 0  # found again: stored earlier (another replica, an earlier run)
    series: int = 0
    muted: int = 0  # below the raised threshold of a shape the team dismissed
    opened: list[IncidentView] = field(default_factory=list)
    extended: list[IncidentView] = field(default_factory=list)
    closed: list[IncidentView] = field(default_factory=list)


FeedbackOutcome = Literal[
    "snoozed", "not_an_issue", "investigated", "not_found", "already", "restored", "not_remembered"
]


@dataclass(frozen=True)
class FeedbackResult:
    outcome: FeedbackOutcome
    anomaly: AnomalyView | None = None
    incident: IncidentView | None = None
    shape: ShapeView | None = None  # "Not an issue" on a recurring shape remembers one


class AnomalyWeekStats:
    """For the weekly digest: anomalies raised (posted or suppressed) and answered."""

    def week(self, session: Session, start: datetime, end: datetime) -> Any:
        from workflows.reports import AnomalyItem, AnomalyWeek

        by_kind = store.kinds_detected_between(session, start, end)
        return AnomalyWeek(
            raised=sum(by_kind.values()),
            resolved=store.answered_between(session, start, end),
            open_now=store.unanswered_at(session, end),
            by_kind=by_kind,
            notable=[
                AnomalyItem(
                    ref=f"{a.signal_type}{'/' + a.dimension + '=' + a.dim_value if a.dimension else ''}",
                    title=f"{a.kind}: {a.observed:g} vs {a.baseline:g} expected",
                    status=a.feedback or a.status,
                    opened_at=a.detected_at,
                )
                for a in store.loudest_between(session, start, end)
            ],
        )

"""What adapters render of anomalies: the alert's view, its chart data, detection and
feedback results, and the weekly digest's numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from store import anomalies as store
from store.anomalies import Anomaly
from workflows.anomalies.detect import HOUR, WEEK

KINDS = {"spike": "Spike", "drop": "Drop", "new_contributor": "New top contributor"}
FEEDBACK = {"snoozed": "Snoozed 24h", "not_an_issue": "Not an issue", "investigated": "Investigated"}


@dataclass(frozen=True)
class AnomalyView:
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


def chart_of(anomaly: AnomalyView, by_hour: dict[datetime, float], hours: int, weeks: int) -> ChartData:
    """The series over the last ``hours`` up to the anomaly's hour, each point beside its
    baseline (the median of the same hour in the previous ``weeks`` weeks)."""
    end = anomaly.bucket
    start = end - HOUR * (hours - 1)
    points = []
    for step in range(hours):
        at = start + HOUR * step
        history = [by_hour.get(at - WEEK * k, 0.0) for k in range(1, weeks + 1)]
        points.append(ChartPoint(at, by_hour.get(at, 0.0), statistics.median(history)))
    return ChartData(title=f"{anomaly.series} per hour", points=points, highlight=end)


@dataclass
class DetectionReport:
    hour: datetime
    found: list[AnomalyView] = field(default_factory=list)  # stored by this run
    suppressed: list[AnomalyView] = field(default_factory=list)  # stored, not posted (snoozed series)
    known: int = 0  # found again: stored earlier (another replica, an earlier run)
    series: int = 0


FeedbackOutcome = Literal["snoozed", "not_an_issue", "investigated", "not_found", "already"]


@dataclass(frozen=True)
class FeedbackResult:
    outcome: FeedbackOutcome
    anomaly: AnomalyView | None = None


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

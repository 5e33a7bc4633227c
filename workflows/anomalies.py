"""Anomalies: each signal type's hourly volume against its own history, overall and per
attribute value, flagged as spikes, drops and new top contributors (tactic shifts).

The baseline of an hour is the same hour of the week in the previous N weeks, so a
weekly rhythm (Monday-morning report peaks) is its own baseline and never alerts. The
median and the median absolute deviation (MAD) keep one odd week from moving it; a
Poisson floor (sqrt of the median) keeps small counts from alerting on noise. Detection
reads only the hourly rollups kept at ingest, never the signals themselves.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.anomalies import Anomaly
from store.base import insert_ignore
from store.db import Database
from store.signals import Signal, SignalRollup
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import ANOMALIES_DETECTED
from workflows.signals import RuleHooks, Signals

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
SNOOZE = timedelta(hours=24)
MAD_SCALE = 1.4826  # MAD → standard deviation for normally distributed noise
KINDS = {"spike": "Spike", "drop": "Drop", "new_contributor": "New top contributor"}
FEEDBACK = {"snoozed": "Snoozed 24h", "not_an_issue": "Not an issue", "investigated": "Investigated"}
JOB_POST = "anomaly.post"
JOB_UPDATE = "anomaly.update"

Series = tuple[str, str, str]  # signal type, dimension ('' overall), value


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Finding:
    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    observed: float
    baseline: float
    score: float
    data: dict[str, Any]

    @property
    def key_part(self) -> str:
        return f"{self.signal_type}|{self.dimension}|{self.dim_value}|{self.kind}"


def robust_score(observed: float, history: list[float]) -> tuple[float, float, float]:
    """(median, scale, score): how many robust standard deviations ``observed`` is off."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    scale = max(MAD_SCALE * mad, math.sqrt(max(median, 1.0)))
    return median, scale, (observed - median) / scale


def find_anomalies(
    counts: dict[Series, dict[datetime, float]],
    first_seen: dict[str, datetime],
    hour: datetime,
    config: VigilConfig,
) -> list[Finding]:
    """Pure detection over hourly counts: testable without a database."""
    settings = config.signals.anomalies
    weeks = [hour - WEEK * k for k in range(1, settings.baseline_weeks + 1)]
    findings: list[Finding] = []
    by_type: dict[str, list[Series]] = defaultdict(list)
    for series in counts:
        by_type[series[0]].append(series)
    for kind, all_series in sorted(by_type.items()):
        start = first_seen.get(kind)
        history_weeks = [w for w in weeks if start is not None and w >= start]
        if len(history_weeks) < settings.min_weeks:
            continue  # too young to have a baseline: no verdict rather than a wrong one
        new_tops = _new_contributors(counts, all_series, hour, history_weeks, config)
        for series in sorted(all_series):
            _, dimension, value = series
            points = counts[series]
            observed = points.get(hour, 0.0)
            history = [points.get(w, 0.0) for w in history_weeks]
            median, scale, score = robust_score(observed, history)
            data = {
                "history": history,
                "weeks": len(history_weeks),
                "scale": round(scale, 3),
            }
            if series in new_tops:
                findings.append(
                    Finding(
                        kind,
                        dimension,
                        value,
                        "new_contributor",
                        observed,
                        median,
                        score,
                        {**data, **new_tops[series]},
                    )
                )
            elif score >= settings.threshold and observed >= settings.min_count:
                findings.append(Finding(kind, dimension, value, "spike", observed, median, score, data))
            elif score <= -settings.threshold and median >= settings.min_drop_baseline:
                findings.append(Finding(kind, dimension, value, "drop", observed, median, score, data))
    return findings


def _new_contributors(
    counts: dict[Series, dict[datetime, float]],
    all_series: list[Series],
    hour: datetime,
    weeks: list[datetime],
    config: VigilConfig,
) -> dict[Series, dict[str, Any]]:
    """Values that lead their dimension now but were never among its top N in the baseline hours."""
    settings = config.signals.anomalies
    by_dim: dict[str, list[Series]] = defaultdict(list)
    for series in all_series:
        if series[1]:
            by_dim[series[1]].append(series)

    def top(dim_series: list[Series], at: datetime) -> list[Series]:
        ranked = sorted(
            (s for s in dim_series if counts[s].get(at, 0.0) > 0), key=lambda s: (-counts[s].get(at, 0.0), s)
        )
        return ranked[: settings.top_n]

    found: dict[Series, dict[str, Any]] = {}
    for dim_series in by_dim.values():
        total = sum(counts[s].get(hour, 0.0) for s in dim_series)
        if total <= 0:
            continue
        before = {s for w in weeks for s in top(dim_series, w)}
        for series in top(dim_series, hour):
            observed = counts[series].get(hour, 0.0)
            share = observed / total
            if series not in before and share >= settings.top_share and observed >= settings.min_count:
                found[series] = {"share": round(share, 3), "previous_top": sorted({s[2] for s in before})}
    return found


# --- what adapters render ----------------------------------------
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


class AnomalyNotifier(Protocol):
    def post_alert(self, anomaly: AnomalyView, channel: str) -> str:
        """Posts the alert with its buttons; returns the message ts."""
        ...

    def post_chart(self, anomaly: AnomalyView, chart: ChartData, channel: str, thread_ts: str) -> str | None:
        """Uploads the chart beside the alert; returns the file id."""
        ...

    def update_alert(self, anomaly: AnomalyView) -> None: ...


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


# --- the workflow ----------------------------------------
class Anomalies:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        signals: Signals,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.signals = signals
        self._wake = wake or (lambda: None)

    @property
    def hooks(self) -> RuleHooks:
        return self.signals.hooks

    def detect(self, at: datetime | None = None) -> DetectionReport:
        """Judge the last complete hour before ``at`` (default now). Safe to run anywhere,
        any number of times: each anomaly's key is unique, and only its first writer posts it."""
        now = self.clock.now()
        hour = hour_of(at or now) - HOUR
        settings = self.config.signals.anomalies
        buckets = [hour - WEEK * k for k in range(settings.baseline_weeks + 1)]
        counts: dict[Series, dict[datetime, float]] = defaultdict(dict)
        first_seen: dict[str, datetime] = {}
        with self.db.read() as session:
            for row in session.execute(
                select(
                    SignalRollup.signal_type,
                    SignalRollup.dimension,
                    SignalRollup.dim_value,
                    SignalRollup.bucket,
                    SignalRollup.count,
                ).where(SignalRollup.bucket.in_(buckets))
            ):
                counts[(row[0], row[1], row[2])][row[3]] = float(row[4])
            for kind in {series[0] for series in counts}:
                start = session.scalar(
                    select(func.min(SignalRollup.bucket)).where(SignalRollup.signal_type == kind)
                )
                if start is not None:
                    first_seen[kind] = start
        findings = find_anomalies(counts, first_seen, hour, self.config)
        report = DetectionReport(hour=hour, series=len(counts))
        if findings:
            with self.db.transaction() as session:
                for finding in findings:
                    self._store(session, finding, hour, now, report)
        for anomaly in report.found + report.suppressed:
            ANOMALIES_DETECTED.labels(kind=anomaly.kind).inc()
        for anomaly in report.found + report.suppressed:
            self.hooks.anomaly_detected(anomaly)
        if report.found:
            self._wake()
        return report

    def _store(
        self, session: Session, finding: Finding, hour: datetime, now: datetime, report: DetectionReport
    ) -> None:
        key = f"{finding.key_part}|{hour:%Y-%m-%dT%H}"
        data = {**finding.data, "top_accounts": self._top_accounts(session, finding, hour)}
        inserted = insert_ignore(
            session,
            Anomaly.__table__,  # type: ignore[arg-type]
            {
                "key": key,
                "bucket": hour,
                "signal_type": finding.signal_type,
                "dimension": finding.dimension,
                "dim_value": finding.dim_value,
                "kind": finding.kind,
                "observed": finding.observed,
                "baseline": finding.baseline,
                "score": round(finding.score, 3),
                "data": data,
                "detected_at": now,
                "status": "new",
            },
            ["key"],
        )
        anomaly = session.scalars(select(Anomaly).where(Anomaly.key == key)).one()
        if not inserted:
            report.known += 1
            return
        snoozed = session.scalar(
            select(func.count())
            .select_from(Anomaly)
            .where(
                Anomaly.signal_type == finding.signal_type,
                Anomaly.dimension == finding.dimension,
                Anomaly.dim_value == finding.dim_value,
                Anomaly.kind == finding.kind,
                Anomaly.snoozed_until > now,
                Anomaly.id != anomaly.id,
            )
        )
        if snoozed:
            anomaly.status = "suppressed"
            session.flush()
            report.suppressed.append(view_of(anomaly))
            return
        enqueue(session, self.clock, JOB_POST, {"anomaly_id": anomaly.id}, key=f"anomaly-post:{anomaly.id}")
        report.found.append(view_of(anomaly))

    @staticmethod
    def _top_accounts(
        session: Session, finding: Finding, hour: datetime, limit: int = 5
    ) -> list[dict[str, Any]]:
        """Who contributed most in that hour: where an investigation starts."""
        query = (
            select(Signal.account_id, func.count())
            .where(
                Signal.type == finding.signal_type,
                Signal.occurred_at >= hour,
                Signal.occurred_at < hour + HOUR,
            )
            .group_by(Signal.account_id)
            .order_by(func.count().desc(), Signal.account_id)
            .limit(limit)
        )
        if finding.dimension:
            query = query.where(Signal.attributes[finding.dimension].as_string() == finding.dim_value)
        return [{"account_id": account, "count": int(count)} for account, count in session.execute(query)]

    # reading ----------------------------------------
    def get(self, anomaly_id: int) -> AnomalyView | None:
        with self.db.read() as session:
            anomaly = session.get(Anomaly, anomaly_id)
            return view_of(anomaly) if anomaly else None

    def chart(self, anomaly: AnomalyView, hours: int = 72) -> ChartData:
        """The series over the last ``hours`` up to the anomaly's hour, with its baseline."""
        settings = self.config.signals.anomalies
        end = anomaly.bucket
        start = end - HOUR * (hours - 1)
        with self.db.read() as session:
            rows = session.execute(
                select(SignalRollup.bucket, SignalRollup.count).where(
                    SignalRollup.signal_type == anomaly.signal_type,
                    SignalRollup.dimension == anomaly.dimension,
                    SignalRollup.dim_value == anomaly.dim_value,
                    SignalRollup.bucket >= start - WEEK * settings.baseline_weeks,
                    SignalRollup.bucket <= end,
                )
            ).all()
        by_hour = {bucket: float(count) for bucket, count in rows}
        points = []
        for step in range(hours):
            at = start + HOUR * step
            history = [by_hour.get(at - WEEK * k, 0.0) for k in range(1, settings.baseline_weeks + 1)]
            points.append(ChartPoint(at, by_hour.get(at, 0.0), statistics.median(history)))
        return ChartData(title=f"{anomaly.series} per hour", points=points, highlight=end)

    def recent(self, limit: int = 20) -> list[AnomalyView]:
        with self.db.read() as session:
            rows = session.scalars(select(Anomaly).order_by(Anomaly.id.desc()).limit(limit))
            return [view_of(a) for a in rows]

    # feedback ----------------------------------------
    def snooze(self, anomaly_id: int, user: str) -> FeedbackResult:
        return self._feedback(anomaly_id, user, "snoozed", snooze=True)

    def not_an_issue(self, anomaly_id: int, user: str) -> FeedbackResult:
        return self._feedback(anomaly_id, user, "not_an_issue")

    def investigated(self, anomaly_id: int, user: str) -> FeedbackResult:
        return self._feedback(anomaly_id, user, "investigated", only_if_none=True)

    def _feedback(
        self, anomaly_id: int, user: str, feedback: str, snooze: bool = False, only_if_none: bool = False
    ) -> FeedbackResult:
        now = self.clock.now()
        values: dict[str, Any] = {"feedback": feedback, "feedback_by": user, "feedback_at": now}
        if snooze:
            values["snoozed_until"] = now + SNOOZE
        with self.db.transaction() as session:
            stmt = update(Anomaly).where(Anomaly.id == anomaly_id)
            if only_if_none:
                stmt = stmt.where(Anomaly.feedback.is_(None))
            won = session.execute(stmt.values(**values).returning(Anomaly.id)).first()
            anomaly = session.get(Anomaly, anomaly_id)
            if anomaly is None:
                return FeedbackResult("not_found")
            if not won:
                return FeedbackResult("already", view_of(anomaly))
            session.refresh(anomaly)
            audit.record(
                session,
                at=now,
                actor=user,
                action=f"anomaly.{feedback}",
                subject_type="anomaly",
                subject_id=str(anomaly_id),
                data={"key": anomaly.key, "snoozed_until": values.get("snoozed_until")},
            )
            if anomaly.message_ts:
                enqueue(session, self.clock, JOB_UPDATE, {"anomaly_id": anomaly_id})
            view = view_of(anomaly)
        self._wake()
        return FeedbackResult(feedback, view)  # type: ignore[arg-type]

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: AnomalyNotifier) -> None:
        def post(payload: dict[str, Any]) -> None:
            anomaly = self._job_anomaly(payload)
            channel = anomaly.channel or self.config.channels.alerts
            ts = anomaly.message_ts
            if ts is None:
                ts = notifier.post_alert(anomaly, channel)
                with self.db.transaction() as session:
                    session.execute(
                        update(Anomaly)
                        .where(Anomaly.id == anomaly.id, Anomaly.message_ts.is_(None))
                        .values(message_ts=ts, channel=channel, status="posted")
                    )
            with self.db.read() as session:
                stored = session.get(Anomaly, anomaly.id)
                has_chart = bool(stored and stored.chart_file_id)
            if not has_chart:
                # A failed upload retries the job; the alert itself is not posted twice.
                file_id = notifier.post_chart(anomaly, self.chart(anomaly), channel, ts)
                with self.db.transaction() as session:
                    session.execute(
                        update(Anomaly).where(Anomaly.id == anomaly.id).values(chart_file_id=file_id or "-")
                    )

        def refresh(payload: dict[str, Any]) -> None:
            notifier.update_alert(self._job_anomaly(payload))

        runner.register(JOB_POST, post)
        runner.register(JOB_UPDATE, refresh)

    def _job_anomaly(self, payload: dict[str, Any]) -> AnomalyView:
        anomaly = self.get(int(payload["anomaly_id"]))
        if anomaly is None:
            raise PermanentJobError(f"anomaly {payload['anomaly_id']} does not exist")
        return anomaly


class AnomalyWeekStats:
    """For the weekly digest: anomalies raised (posted or suppressed) and answered."""

    def week(self, session: Session, start: datetime, end: datetime) -> Any:
        from sqlalchemy import and_, func, or_

        from workflows.reports import AnomalyItem, AnomalyWeek

        in_week = and_(Anomaly.detected_at >= start, Anomaly.detected_at < end)
        by_kind = dict(
            session.execute(select(Anomaly.kind, func.count()).where(in_week).group_by(Anomaly.kind)).all()
        )
        resolved = (
            session.scalar(
                select(func.count()).where(Anomaly.feedback_at >= start, Anomaly.feedback_at < end)
            )
            or 0
        )
        open_now = (
            session.scalar(
                select(func.count()).where(
                    Anomaly.detected_at < end,
                    Anomaly.status != "suppressed",
                    or_(Anomaly.feedback_at.is_(None), Anomaly.feedback_at >= end),
                )
            )
            or 0
        )
        notable = session.scalars(
            select(Anomaly).where(in_week).order_by(func.abs(Anomaly.score).desc(), Anomaly.id).limit(5)
        )
        return AnomalyWeek(
            raised=sum(by_kind.values()),
            resolved=resolved,
            open_now=open_now,
            by_kind=by_kind,
            notable=[
                AnomalyItem(
                    ref=f"{a.signal_type}{'/' + a.dimension + '=' + a.dim_value if a.dimension else ''}",
                    title=f"{a.kind}: {a.observed:g} vs {a.baseline:g} expected",
                    status=a.feedback or a.status,
                    opened_at=a.detected_at,
                )
                for a in notable
            ],
        )

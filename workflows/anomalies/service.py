"""The anomalies service: the hourly detection run, which groups findings into incidents, and
the team's answers to an incident (snooze, not an issue, investigated) and to a remembered
shape (restore sensitivity).

Detection reads only the hourly rollups kept at ingest, never the signals themselves (the
top accounts of a finding are the one exception: one indexed range scan of one hour).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from store import anomalies as store
from store import signals as signal_store
from store.anomalies import Anomaly, Incident
from store.db import Database
from workflows import audit
from workflows.anomalies.detect import HOUR, WEEK, Finding, Series, find_anomalies, hour_of, window_start
from workflows.anomalies.incidents import JOB_INCIDENT_UPDATE, Episodes, muted_by, slots_of
from workflows.anomalies.jobs import IncidentJobs
from workflows.anomalies.ports import AnomalyNotifier, AnomalyRuleHook
from workflows.anomalies.views import (
    AnomalyView,
    ChartData,
    DetectionReport,
    FeedbackResult,
    IncidentView,
    ShapeView,
    chart_of,
    incident_view,
    shape_view,
    view_of,
)
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, enqueue
from workflows.metrics import ANOMALIES_DETECTED

SNOOZE = timedelta(hours=24)
# A dismissed recurring shape alerts again only well past both the threshold and its own peak.
SHAPE_RAISE = 2.0
SHAPE_MARGIN = 1.25
RECURS_AFTER = timedelta(days=6)  # an earlier episode in the same weekday-hours, a week or more back


class Anomalies:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        hooks: AnomalyRuleHook,
        *,
        jobs: JobRunner,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.hooks = hooks
        self.jobs = jobs

    def detect(self, at: datetime | None = None) -> DetectionReport:
        """Judge the last complete hour before ``at`` (default now). Safe to run anywhere,
        any number of times: each hour's anomaly is unique and only its first writer adds it
        to an incident, so each incident is opened, posted and closed once."""
        now = self.clock.now()
        hour = hour_of(at or now) - HOUR
        counts: dict[Series, dict[datetime, float]] = defaultdict(dict)
        first_seen: dict[str, datetime] = {}
        with self.db.read() as session:
            for signal_type, dimension, dim_value, bucket, count in signal_store.rollup_counts_between(
                session, window_start(hour, self.config), hour
            ):
                counts[(signal_type, dimension, dim_value)][bucket] = float(count)
            for kind in {series[0] for series in counts}:
                start = signal_store.first_rollup_hour(session, kind)
                if start is not None:
                    first_seen[kind] = start
        findings = find_anomalies(counts, first_seen, hour, self.config)
        report = DetectionReport(hour=hour, series=len(counts))
        with self.db.transaction() as session:
            episodes = Episodes(session, self.clock, self.config)
            shapes = store.active_shapes(session) if findings else []
            for finding in findings:
                if muted_by(finding, hour, shapes) is not None:
                    report.muted += 1
                    continue
                self._store(session, episodes, finding, hour, now, report)
            episodes.close_quiet(hour)
            report.opened, report.extended, report.closed = (
                episodes.opened,
                episodes.extended,
                episodes.closed,
            )
        for anomaly in report.found + report.suppressed:
            ANOMALIES_DETECTED.labels(kind=anomaly.kind).inc()
        for anomaly in report.found + report.suppressed:
            self.hooks.anomaly_detected(anomaly)
        if report.opened or report.extended or report.closed:
            self.jobs.wake()
        return report

    def _store(
        self,
        session: Session,
        episodes: Episodes,
        finding: Finding,
        hour: datetime,
        now: datetime,
        report: DetectionReport,
    ) -> None:
        key = f"{finding.key_part}|{hour:%Y-%m-%dT%H}"
        # Who contributed most in that hour: where an investigation starts.
        top = signal_store.top_accounts(
            session, finding.signal_type, hour, hour + HOUR, finding.dimension, finding.dim_value
        )
        data = {**finding.data, "top_accounts": [{"account_id": a, "count": c} for a, c in top]}
        if finding.expected:
            data["expected"] = finding.expected
        inserted = store.insert_if_new(
            session,
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
        )
        if not inserted:
            report.known += 1
            return
        anomaly = store.by_key(session, key)
        attached = episodes.attach(anomaly, finding, hour)
        if not attached.posted:
            anomaly.status = "suppressed"
            session.flush()
            report.suppressed.append(view_of(anomaly))
            return
        report.found.append(view_of(anomaly))

    # reading ----------------------------------------
    def get(self, anomaly_id: int) -> AnomalyView | None:
        with self.db.read() as session:
            anomaly = session.get(Anomaly, anomaly_id)
            return view_of(anomaly) if anomaly else None

    def incident(self, incident_id: int) -> IncidentView | None:
        with self.db.read() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return None
            shape = store.shape_of_incident(session, incident.id)
            if shape is None and incident.shape_id is not None:
                shape = session.get(store.Shape, incident.shape_id)
            return incident_view(incident, shape)

    def chart(self, incident: IncidentView, hours: int = 72) -> ChartData:
        """The series over the last ``hours`` up to the incident's last hour, with its baseline."""
        weeks = self.config.signals.anomalies.baseline_weeks
        end = incident.last_hour
        start = end - HOUR * (hours - 1)
        with self.db.read() as session:
            by_hour = signal_store.rollup_series(
                session,
                incident.signal_type,
                incident.dimension,
                incident.dim_value,
                start - WEEK * weeks,
                end,
            )
        values = {at: float(count) for at, count in by_hour.items()}
        return chart_of(incident.series, end, values, hours, weeks)

    def shapes(self) -> list[ShapeView]:
        with self.db.read() as session:
            return [shape_view(s) for s in store.all_shapes(session)]

    # answers ----------------------------------------
    def snooze(self, incident_id: int, user: str) -> FeedbackResult:
        return self._answer(incident_id, user, "snoozed", over=("investigated",))

    def not_an_issue(self, incident_id: int, user: str) -> FeedbackResult:
        return self._answer(incident_id, user, "not_an_issue", over=("investigated", "snoozed"))

    def investigated(self, incident_id: int, user: str) -> FeedbackResult:
        return self._answer(incident_id, user, "investigated", over=())

    def _answer(self, incident_id: int, user: str, feedback: str, over: tuple[str, ...]) -> FeedbackResult:
        now = self.clock.now()
        values: dict[str, Any] = {"feedback": feedback, "feedback_by": user, "feedback_at": now}
        if feedback == "snoozed":
            values["snoozed_until"] = now + SNOOZE
        with self.db.transaction() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return FeedbackResult("not_found")
            if not store.answer_incident(session, incident_id, values, over):
                return FeedbackResult("already", incident=incident_view(incident))
            session.refresh(incident)
            store.mirror_to_hours(session, incident, values, only_unset="feedback")
            audit.record(
                session,
                at=now,
                actor=user,
                action=f"anomaly.{feedback}",
                subject_type="anomaly_incident",
                subject_id=str(incident_id),
                data={"series": incident.key, "snoozed_until": values.get("snoozed_until")},
            )
            shape = self._remember(session, incident, user, now) if feedback == "not_an_issue" else None
            self._refresh_card(session, incident, now)
            view = incident_view(incident, shape)
        self.jobs.wake()
        if feedback == "not_an_issue" and shape is None:
            return FeedbackResult("not_remembered", incident=view)
        return FeedbackResult(feedback, incident=view, shape=view.shape)  # type: ignore[arg-type]

    def _remember(self, session: Session, incident: Incident, user: str, now: datetime) -> Any:
        """A dismissed incident whose weekday-hours an earlier episode of the series shared is a
        recurring shape: remember it, with a raised threshold for those hours."""
        slots = slots_of(incident.start, incident.last_hour)
        series = (incident.signal_type, incident.dimension, incident.dim_value)
        earlier = store.earlier_incidents(session, series, incident.kind, incident.start - RECURS_AFTER)
        recurring = any(slots_of(e.start, e.last_hour) & slots for e in earlier)
        if not recurring:
            return None
        threshold = self.config.signals.anomalies.threshold
        min_score = round(max(SHAPE_RAISE * threshold, SHAPE_MARGIN * abs(incident.peak_score)), 2)
        store.insert_shape(
            session,
            {
                "signal_type": incident.signal_type,
                "dimension": incident.dimension,
                "dim_value": incident.dim_value,
                "kind": incident.kind,
                "slots": [list(s) for s in sorted(slots)],
                "min_score": min_score,
                "incident_id": incident.id,
                "created_by": user,
                "created_at": now,
            },
        )
        shape = store.shape_of_incident(session, incident.id)
        assert shape is not None
        incident.shape_id = shape.id
        session.flush()
        audit.record(
            session,
            at=now,
            actor=user,
            action="anomaly.shape_remembered",
            subject_type="anomaly_shape",
            subject_id=str(shape.id),
            data={
                "incident": incident.id,
                "series": incident.key,
                "slots": shape.slots,
                "min_score": min_score,
            },
        )
        return shape

    def forget_shape(self, shape_id: int, user: str) -> FeedbackResult:
        """Restores the series' usual sensitivity in the shape's hours (the dismissal stays on
        record, with who restored it and when)."""
        now = self.clock.now()
        with self.db.transaction() as session:
            shape = session.get(store.Shape, shape_id)
            if shape is None:
                return FeedbackResult("not_found")
            if not store.forget_shape(session, shape_id, user, now):
                session.refresh(shape)
                return FeedbackResult("already", shape=shape_view(shape))
            session.refresh(shape)
            audit.record(
                session,
                at=now,
                actor=user,
                action="anomaly.shape_forgotten",
                subject_type="anomaly_shape",
                subject_id=str(shape_id),
                data={"incident": shape.incident_id, "slots": shape.slots},
            )
            for incident in store.incidents_of_shape(session, shape_id):
                self._refresh_card(session, incident, now)
            view = shape_view(shape)
        self.jobs.wake()
        return FeedbackResult("restored", shape=view)

    def register_jobs(self, runner: JobRunner, notifier: AnomalyNotifier) -> None:
        IncidentJobs(self, notifier).register(runner)

    def _refresh_card(self, session: Session, incident: Incident, now: datetime) -> None:
        if incident.message_ts:
            enqueue(session, self.clock, JOB_INCIDENT_UPDATE, {"incident_id": incident.id})

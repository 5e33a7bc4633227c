"""The anomalies service: the hourly detection run, the team's feedback (snooze, not an
issue, investigated) and the jobs that post each alert once, with its chart.

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
from store.anomalies import Anomaly
from store.db import Database
from workflows import audit
from workflows.anomalies.detect import HOUR, WEEK, Finding, Series, find_anomalies, hour_of, window_start
from workflows.anomalies.ports import AnomalyNotifier, AnomalyRuleHook
from workflows.anomalies.views import (
    AnomalyView,
    ChartData,
    DetectionReport,
    FeedbackResult,
    chart_of,
    view_of,
)
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import ANOMALIES_DETECTED

SNOOZE = timedelta(hours=24)
JOB_POST = "anomaly.post"
JOB_UPDATE = "anomaly.update"


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
        any number of times: each anomaly's key is unique, and only its first writer posts it."""
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
        if findings:
            with self.db.transaction() as session:
                for finding in findings:
                    self._store(session, finding, hour, now, report)
        for anomaly in report.found + report.suppressed:
            ANOMALIES_DETECTED.labels(kind=anomaly.kind).inc()
        for anomaly in report.found + report.suppressed:
            self.hooks.anomaly_detected(anomaly)
        if report.found:
            self.jobs.wake()
        return report

    def _store(
        self, session: Session, finding: Finding, hour: datetime, now: datetime, report: DetectionReport
    ) -> None:
        key = f"{finding.key_part}|{hour:%Y-%m-%dT%H}"
        # Who contributed most in that hour: where an investigation starts.
        top = signal_store.top_accounts(
            session, finding.signal_type, hour, hour + HOUR, finding.dimension, finding.dim_value
        )
        data = {**finding.data, "top_accounts": [{"account_id": a, "count": c} for a, c in top]}
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
        anomaly = store.by_key(session, key)
        if not inserted:
            report.known += 1
            return
        if store.series_snoozed(session, anomaly, now):
            anomaly.status = "suppressed"
            session.flush()
            report.suppressed.append(view_of(anomaly))
            return
        enqueue(session, self.clock, JOB_POST, {"anomaly_id": anomaly.id}, key=f"anomaly-post:{anomaly.id}")
        report.found.append(view_of(anomaly))

    # reading ----------------------------------------
    def get(self, anomaly_id: int) -> AnomalyView | None:
        with self.db.read() as session:
            anomaly = session.get(Anomaly, anomaly_id)
            return view_of(anomaly) if anomaly else None

    def chart(self, anomaly: AnomalyView, hours: int = 72) -> ChartData:
        """The series over the last ``hours`` up to the anomaly's hour, with its baseline."""
        weeks = self.config.signals.anomalies.baseline_weeks
        end = anomaly.bucket
        start = end - HOUR * (hours - 1)
        with self.db.read() as session:
            by_hour = signal_store.rollup_series(
                session, anomaly.signal_type, anomaly.dimension, anomaly.dim_value, start - WEEK * weeks, end
            )
        return chart_of(anomaly, {at: float(count) for at, count in by_hour.items()}, hours, weeks)

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
            won = store.give_feedback(session, anomaly_id, values, only_if_none)
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
        self.jobs.wake()
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
                    store.mark_posted(session, anomaly.id, channel, ts)
            with self.db.read() as session:
                charted = store.has_chart(session, anomaly.id)
            if not charted:
                # A failed upload retries the job; the alert itself is not posted twice.
                file_id = notifier.post_chart(anomaly, self.chart(anomaly), channel, ts)
                with self.db.transaction() as session:
                    store.set_chart(session, anomaly.id, file_id or "-")

        def refresh(payload: dict[str, Any]) -> None:
            notifier.update_alert(self._job_anomaly(payload))

        runner.register(JOB_POST, post)
        runner.register(JOB_UPDATE, refresh)

    def _job_anomaly(self, payload: dict[str, Any]) -> AnomalyView:
        anomaly = self.get(int(payload["anomaly_id"]))
        if anomaly is None:
            raise PermanentJobError(f"anomaly {payload['anomaly_id']} does not exist")
        return anomaly

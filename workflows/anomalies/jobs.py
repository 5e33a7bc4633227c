"""The jobs that keep Slack in step with the incidents: post a card once (with its chart),
redraw it in place as the episode grows or is answered, tell its thread when it closed, and
keep one summary per series and day of what went over the alert budget.

A card is posted by one job per incident (a unique job key), so replicas post it once. Updates
are idempotent redraws of the current state; an update that finds no card yet leaves it to the
post job, which redraws after recording the card if the incident moved meanwhile.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from store import anomalies as store
from store.anomalies import AlertDay
from store.db import Database
from workflows.anomalies.incidents import (
    JOB_BUDGET_POST,
    JOB_BUDGET_UPDATE,
    JOB_INCIDENT_CLOSE,
    JOB_INCIDENT_POST,
    JOB_INCIDENT_UPDATE,
    POSTED,
)
from workflows.anomalies.ports import AnomalyNotifier
from workflows.anomalies.views import BudgetView, ChartData, IncidentView, budget_view
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, PermanentJobError


class IncidentSource(Protocol):
    """What the jobs read of the anomalies service."""

    db: Database
    config: VigilConfig

    def incident(self, incident_id: int) -> IncidentView | None: ...

    def chart(self, incident: IncidentView, hours: int = 72) -> ChartData: ...


class IncidentJobs:
    def __init__(self, anomalies: IncidentSource, notifier: AnomalyNotifier) -> None:
        self.anomalies = anomalies
        self.db = anomalies.db
        self.notifier = notifier
        self.worker = uuid.uuid4().hex[:12]

    def register(self, runner: JobRunner) -> None:
        runner.register(JOB_INCIDENT_POST, self.post)
        runner.register(JOB_INCIDENT_UPDATE, self.update)
        runner.register(JOB_INCIDENT_CLOSE, self.close)
        runner.register(JOB_BUDGET_POST, self.post_budget)
        runner.register(JOB_BUDGET_UPDATE, self.update_budget)

    def _incident(self, payload: dict[str, Any]) -> IncidentView:
        incident = self.anomalies.incident(int(payload["incident_id"]))
        if incident is None:
            raise PermanentJobError(f"incident {payload['incident_id']} does not exist")
        return incident

    def post(self, payload: dict[str, Any]) -> None:
        incident = self._incident(payload)
        if incident.delivery not in POSTED:
            return
        channel = incident.channel or self.anomalies.config.channels.alerts
        if incident.message_ts is None:
            ts = self.notifier.post_incident(incident, channel)
            with self.db.transaction() as session:
                store.mark_incident_posted(session, incident.id, channel, ts)
                row = session.get(store.Incident, incident.id)
                assert row is not None
                store.mirror_to_hours(
                    session,
                    row,
                    {"channel": channel, "message_ts": ts, "status": "posted"},
                    only_unset="message_ts",
                )
            now = self._incident(payload)
            if _moved(incident, now):
                self.notifier.update_incident(now)
            if now.state == "closed":
                self._reply_closed(now)
            incident = now
        with self.db.read() as session:
            row = session.get(store.Incident, incident.id)
            charted = bool(row and row.chart_file_id)
        if not charted and incident.message_ts:
            # A failed upload retries the job; the card itself is not posted twice.
            chart = self.anomalies.chart(incident)
            name = f"anomaly-incident-{incident.id}"
            file_id = self.notifier.post_chart(name, chart, channel, incident.message_ts)
            with self.db.transaction() as session:
                store.set_incident_chart(session, incident.id, file_id or "-")

    def update(self, payload: dict[str, Any]) -> None:
        incident = self._incident(payload)
        if incident.message_ts:
            self.notifier.update_incident(incident)

    def close(self, payload: dict[str, Any]) -> None:
        incident = self._incident(payload)
        if incident.message_ts:  # not posted yet: the post job redraws and replies
            self.notifier.update_incident(incident)
            self._reply_closed(incident)

    def _reply_closed(self, incident: IncidentView) -> None:
        with self.db.transaction() as session:
            first = store.claim_closed_reply(session, incident.id, self.worker)
        if first:
            ts = self.notifier.reply_closed(incident)
            with self.db.transaction() as session:
                store.mark_closed_reply(session, incident.id, ts)

    # the alert budget's daily summary ----------------------------------------
    def _budget(self, payload: dict[str, Any]) -> BudgetView:
        with self.db.read() as session:
            day = session.get(AlertDay, int(payload["day_id"]))
            if day is None:
                raise PermanentJobError(f"alert day {payload['day_id']} does not exist")
            overflow = [i for i in store.incidents_for_day(session, day.id) if i.delivery == "over_budget"]
            return budget_view(day, overflow)

    def post_budget(self, payload: dict[str, Any]) -> None:
        budget = self._budget(payload)
        if budget.message_ts is not None:
            return
        channel = self.anomalies.config.channels.alerts
        ts = self.notifier.post_budget(budget, channel)
        with self.db.transaction() as session:
            store.mark_summary_posted(session, budget.id, channel, ts)
        now = self._budget(payload)
        if len(now.overflow) != len(budget.overflow):
            self.notifier.update_budget(now)

    def update_budget(self, payload: dict[str, Any]) -> None:
        budget = self._budget(payload)
        if budget.message_ts is not None:
            self.notifier.update_budget(budget)


def _moved(before: IncidentView, after: IncidentView) -> bool:
    """Whether the card drawn from ``before`` is out of date."""
    fields = ("hours", "last_hour", "peak_score", "state", "feedback", "expected", "shape")
    return any(getattr(before, f) != getattr(after, f) for f in fields)

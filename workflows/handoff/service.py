"""Hand-off use cases: send a requirement (kept first, delivered by a job that retries with
backoff), bring ticket status changes back (poll and webhook), list what is still open."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from store import handoff as store
from store.db import Database
from workflows.clock import Clock
from workflows.handoff.intake import Requirement
from workflows.handoff.ports import HandoffNotifier, Issue, IssueTracker, TrackerError
from workflows.handoff.views import HandoffView
from workflows.jobs import JobRunner, PermanentJobError, enqueue

log = logging.getLogger(__name__)

JOB_DELIVER = "handoff.deliver"
TELL_ON = ("In Progress", "Done")  # ticket statuses the thread hears about
MAX_ATTEMPTS = 20  # with backoff capped at 5 minutes: well over an hour of trying


class Handoffs:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        jobs: JobRunner,
        notifier: HandoffNotifier,
        tracker: IssueTracker | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.jobs = jobs
        self.notifier = notifier
        self.tracker = tracker
        jobs.register(JOB_DELIVER, self._deliver)

    # --- sending ----------------------------------------------------------------------------
    def send(
        self,
        requirement: Requirement,
        requested_by: str,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> HandoffView:
        """Keep the requirement and queue its delivery, in one transaction: it is never dropped."""
        now = self.clock.now()
        with self.db.transaction() as session:
            row = store.add(
                session,
                {
                    **requirement.model_dump(),
                    "request_id": f"vigil-handoff-{uuid.uuid4().hex[:20]}",
                    "requested_by": requested_by,
                    "status": store.QUEUED,
                    "attempts": 0,
                    "told_failure": False,
                    "channel": channel or requested_by,  # no thread: the person hears it directly
                    "thread_ts": thread_ts,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            enqueue(
                session,
                self.clock,
                JOB_DELIVER,
                {"handoff": row.id},
                key=f"handoff:{row.id}",
                max_attempts=MAX_ATTEMPTS,
            )
            view = HandoffView.of(row)
        self.jobs.wake()
        return view

    def _deliver(self, payload: dict[str, Any]) -> None:
        handoff_id = int(payload["handoff"])
        with self.db.read() as session:
            row = store.get(session, handoff_id)
            if row is None:
                raise PermanentJobError(f"no hand-off {handoff_id}")
            view = HandoffView.of(row)
            where = (row.channel, row.thread_ts, row.told_failure)
        if view.status != store.QUEUED:
            return  # delivered already (a retried job after a crash)
        channel, thread_ts, told = where
        now = self.clock.now()
        if self.tracker is None:
            self.notifier.post_requirement(view)
            with self.db.transaction() as session:
                store.record(session, handoff_id, status=store.POSTED, delivered_at=now, updated_at=now)
            if channel:
                self.notifier.tell(
                    channel,
                    thread_ts,
                    f"{view.ref} was posted to Engineering's channel (no Jira configured).",
                )
            return
        issue = Issue(
            label=view.request_id,
            title=view.title,
            description=view.description(),
            parts={
                "problem": view.problem,
                "evidence": view.evidence,
                "impact": view.impact,
                "mitigation": view.mitigation,
                "priority": view.priority,
            },
        )
        try:
            # Find first: an earlier attempt may have created the issue and died before storing it.
            ticket = self.tracker.find(issue.label) or self.tracker.create(issue)
        except TrackerError as exc:
            with self.db.transaction() as session:
                store.record(
                    session,
                    handoff_id,
                    attempts=store.Handoff.attempts + 1,
                    last_error=exc.reason[:1000],
                    told_failure=True,
                    updated_at=now,
                )
            if not told and channel:
                self.notifier.tell(
                    channel,
                    thread_ts,
                    f"Jira did not take {view.ref} yet ({exc.reason}). The requirement is kept and retried; "
                    "the link follows here when it is created.",
                )
            raise
        with self.db.transaction() as session:
            store.record(
                session,
                handoff_id,
                status=store.TICKETED,
                ticket_key=ticket.key,
                ticket_url=ticket.url,
                ticket_status=ticket.status,
                attempts=store.Handoff.attempts + 1,
                delivered_at=now,
                updated_at=now,
            )
        if channel:
            self.notifier.tell(
                channel, thread_ts, f"Jira ticket {ticket.key} created for {view.ref}: {ticket.url}"
            )

    # --- status coming back -------------------------------------------------------------------
    def status_changed(self, key: str, status: str) -> bool:
        """A ticket moved (webhook or poll). False for a key that is not ours or no change."""
        with self.db.transaction() as session:
            row = store.by_ticket(session, key)
            if row is None:
                return False
            changed = store.set_status_if_changed(session, row.id, status, self.clock.now())
            channel, thread_ts, ref = row.channel, row.thread_ts, row.ref
        if changed and status in TELL_ON and channel:
            self.notifier.tell(channel, thread_ts, f"Jira ticket {key} ({ref}) moved to {status}.")
        return changed

    def poll(self) -> int:
        """Ask the tracker about every open ticket; returns how many changed."""
        if self.tracker is None:
            return 0
        with self.db.read() as session:
            keys = [row.ticket_key for row in store.open_tickets(session) if row.ticket_key]
        changed = 0
        for key in keys:
            try:
                status = self.tracker.status(key)
            except TrackerError as exc:
                log.warning("jira status poll failed", extra={"ticket": key, "error": exc.reason})
                continue
            changed += self.status_changed(key, status)
        return changed

    # --- reading ----------------------------------------------------------------------------------
    def of_subject(self, subject_type: str, subject_ref: str) -> list[HandoffView]:
        with self.db.read() as session:
            return [HandoffView.of(r) for r in store.of_subject(session, subject_type, subject_ref)]

    def about(self, subject_ref: str) -> list[HandoffView]:
        """Every hand-off about CASE-n, INV-n, PAT-n, … whatever its kind."""
        with self.db.read() as session:
            return [HandoffView.of(r) for r in store.by_subject_ref(session, subject_ref)]

    def open_by_age(self) -> list[HandoffView]:
        with self.db.read() as session:
            return [HandoffView.of(r) for r in store.open_by_age(session)]

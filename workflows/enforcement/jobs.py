"""Enforcement's job kinds: what Slack must be told, queued in the transaction of the change
it is about (a Slack outage or a restart delays it, never loses it), and their handlers.

- ``enforcement.announce``: post the approval card, tell the requester where; bulk: queue the pre-check
- ``enforcement.precheck``: ask the API what it knows of a bulk request's accounts
- ``enforcement.card``: bring a card up to date (expired, a conflicting request appeared)
- ``enforcement.results``: per-account results of a small request, in the card's thread
- ``enforcement.summary``: a finished request's summary (and a bulk request's last progress)

A handler that raises is retried by the job runner; the ledger is already right.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from store import enforcement as ledger
from store.db import Database
from store.enforcement import FAILED, RETRYABLE
from workflows.clock import Clock
from workflows.config import EnforcementSettings
from workflows.enforcement.intake import TARGET_STATE, request_ref
from workflows.enforcement.ports import EnforcementGateway, EnforcementNotifier
from workflows.enforcement.views import (
    SAMPLE_SIZE,
    RequestView,
    Summary,
    action_view,
    actions_of,
    conflicts_of,
    load_view,
)
from workflows.jobs import JobRunner, PermanentJobError, enqueue

log = logging.getLogger(__name__)

JOB_ANNOUNCE = "enforcement.announce"
JOB_CARD = "enforcement.card"
JOB_PRECHECK = "enforcement.precheck"
JOB_RESULTS = "enforcement.results"
JOB_SUMMARY = "enforcement.summary"


# --- queueing, in the caller's transaction ------------------------------------------------------
def queue_announce(session: Session, clock: Clock, request_id: int, duplicates: list[str]) -> None:
    payload = {"request_id": request_id, "duplicates": duplicates[:50]}
    enqueue(session, clock, JOB_ANNOUNCE, payload, key=f"enforcement-announce:{request_id}")


def queue_card(session: Session, clock: Clock, request_id: int, why: str) -> None:
    """Update a card from the jobs table, queued with the change it shows."""
    enqueue(session, clock, JOB_CARD, {"request_id": request_id}, key=f"enforcement-card:{request_id}:{why}")


def queue_others(session: Session, clock: Clock, request_id: int, why: str) -> list[int]:
    """Cards of the other open requests on this one's accounts name it and its state:
    queue their update (it was asked, decided or expired). Returns their ids."""
    others = sorted({c.request_id for c in conflicts_of(session, request_id)})
    for other in others:
        queue_card(session, clock, other, f"{why}:{request_id}")
    return others


def queue_results(
    session: Session, clock: Clock, request_id: int, accounts: list[str], then_summary: str | None
) -> None:
    """A small request's per-account results; ``then_summary`` (its key) queues the summary
    after them, so it reads after them."""
    payload = {"request_id": request_id, "accounts": accounts, "then_summary": then_summary}
    enqueue(session, clock, JOB_RESULTS, payload)


def queue_summary(session: Session, clock: Clock, request_id: int, key: str) -> None:
    enqueue(session, clock, JOB_SUMMARY, {"request_id": request_id}, key=key)


def summary_key(request_id: int, round_: int) -> str:
    """One summary per request and round (a retry runs another round, with its own summary)."""
    return f"enforcement-summary:{request_id}:{round_}"


def safely(func: Callable[..., Any], *args: Any) -> None:
    """Slack is a view of the ledger: a failed post is logged, the ledger stays right."""
    try:
        func(*args)
    except Exception:
        log.exception("enforcement notification failed", extra={"what": getattr(func, "__name__", "")})


# --- the handlers ------------------------------------------------------------------------------------
class EnforcementJobs:
    """The handlers of enforcement's job kinds, registered on the runner when built."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: EnforcementSettings,
        notifier: EnforcementNotifier,
        gateway: EnforcementGateway | None,
        jobs: JobRunner,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.notifier = notifier
        self.gateway = gateway
        self.jobs = jobs
        jobs.register(
            JOB_ANNOUNCE, lambda p: self.announce(int(p["request_id"]), list(p.get("duplicates", [])))
        )
        jobs.register(JOB_PRECHECK, lambda p: self.precheck(int(p["request_id"])))
        jobs.register(JOB_RESULTS, self.results)
        jobs.register(JOB_SUMMARY, self.summary)
        jobs.register(JOB_CARD, self.card)

    def view(self, request_id: int) -> RequestView | None:
        with self.db.read() as session:
            return load_view(session, request_id)

    def announce(self, request_id: int, duplicates: list[str]) -> RequestView:
        """Put the request in front of approvers, tell the requester where, and queue the bulk
        pre-check. Raises when the card cannot be posted, so the job retries it."""
        view = self.view(request_id)
        if view is None:
            raise PermanentJobError(f"{request_ref(request_id)} does not exist")
        if view.card is None:
            card = self.notifier.post_card(view)
            with self.db.transaction() as session:
                ledger.set_card(session, request_id, card.channel, card.ts)
            view = self.view(request_id)
            assert view is not None
            try:
                self.notifier.requester_link(view, duplicates)
            except Exception:  # the card is up; a missing link is not worth a second card
                log.warning("could not tell the requester", extra={"request": view.ref}, exc_info=True)
        if view.bulk and self.gateway is not None and view.precheck is None:
            with self.db.transaction() as session:
                enqueue(
                    session,
                    self.clock,
                    JOB_PRECHECK,
                    {"request_id": request_id},
                    key=f"enforcement-precheck:{request_id}",
                    max_attempts=3,
                )
            self.jobs.wake()
        return view

    def precheck(self, request_id: int) -> dict[str, Any] | None:
        """Ask the API what it knows of each account (already in the target state, unknown)."""
        gateway = self.gateway
        if gateway is None:
            return None
        with self.db.read() as session:
            accounts = ledger.accounts_of(session, request_id)
            view = load_view(session, request_id)
        if view is None:
            return None
        target = TARGET_STATE[view.action]
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="vigil-precheck") as pool:
            states = list(pool.map(gateway.lookup, accounts))
        unknown = [a for a, s in zip(accounts, states, strict=True) if s == "unknown"]
        already = [a for a, s in zip(accounts, states, strict=True) if s == target]
        untold = sum(1 for s in states if s is None)
        result = {
            "already": len(already),
            "already_sample": already[:SAMPLE_SIZE],
            "unknown": len(unknown),
            "unknown_sample": unknown[:SAMPLE_SIZE],
            "not_checked": untold,
        }
        with self.db.transaction() as session:
            ledger.set_precheck(session, request_id, result)
        self.refresh_card(request_id)
        return result

    def card(self, payload: dict[str, Any]) -> None:
        view = self.view(int(payload["request_id"]))
        if view is None:
            raise PermanentJobError(f"{request_ref(int(payload['request_id']))} does not exist")
        if view.card is not None:  # not posted yet: the announcement posts it as it is now
            self.notifier.update_card(view)  # raises: the job retries it

    def results(self, payload: dict[str, Any]) -> None:
        view = self._job_view(payload)
        with self.db.read() as session:
            rows = ledger.actions_for_accounts(session, view.id, list(payload["accounts"]))
            results = [action_view(row) for row in rows]
        self.notifier.account_results(view, results)
        if payload.get("then_summary"):
            with self.db.transaction() as session:
                queue_summary(session, self.clock, view.id, payload["then_summary"])
            self.jobs.wake()

    def summary(self, payload: dict[str, Any]) -> None:
        view = self._job_view(payload)
        if view.bulk:
            self.progress(view)
        with self.db.read() as session:
            failures = actions_of(session, view.id, [FAILED, RETRYABLE])
        self.notifier.summary(Summary(view, failures))  # raises: the job retries it
        safely(self.notifier.update_card, view)

    def _job_view(self, payload: dict[str, Any]) -> RequestView:
        view = self.view(int(payload["request_id"]))
        if view is None:
            raise PermanentJobError(f"{request_ref(int(payload['request_id']))} does not exist")
        if view.card is None:
            raise RuntimeError(f"{view.ref} has no card yet; retry after it is posted")
        return view

    # --- live updates (not jobs: a missed one is replaced by the next) ----------------------------
    def progress(self, view: RequestView) -> None:
        """Post or update a bulk request's progress message; its ts is stored once."""
        try:
            ts = self.notifier.progress(view)
        except Exception:
            log.exception("progress message failed", extra={"request": view.ref})
            return
        if ts and ts != view.progress_ts:
            with self.db.transaction() as session:
                ledger.set_progress_ts(session, view.id, ts)

    def refresh_card(self, request_id: int) -> None:
        view = self.view(request_id)
        if view is not None and view.card is not None:
            safely(self.notifier.update_card, view)

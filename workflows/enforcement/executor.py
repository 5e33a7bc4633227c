"""The executor: runs approved actions against the enforcement API, in the background.

It claims due action rows under a lease (store/enforcement's ``claim_due_actions`` through
the shared workflows/leases.py keeper, whose heartbeat renews the lease while a call is in
flight), calls the gateway with bounded concurrency, and writes outcomes in batches: the
ledger row, the request's timeline and the audit entry in one unit of work, with the jobs
that tell Slack queued in it. Transient failures are retried with backoff and the same
idempotency key; after ``RetryPolicy.give_up_after`` the action is ``failed (retryable)``.
A restart resumes from the rows; a dead worker's rows are taken over when its lease runs out.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from store import enforcement as ledger
from store.db import Database
from store.enforcement import (
    ALREADY,
    DONE,
    FAILED,
    PENDING,
    RETRYABLE,
    RUNNING,
    EnforcementAction,
)
from store.enforcement import results as results_store
from store.enforcement.results import ActionState
from workflows import audit
from workflows.clock import Clock, SystemClock
from workflows.config import EnforcementSettings
from workflows.enforcement.events import complete_if_finished
from workflows.enforcement.intake import request_ref
from workflows.enforcement.jobs import queue_results, queue_summary, summary_key
from workflows.enforcement.ports import (
    ActionCall,
    ConcurrentEnforcementGateway,
    DecisionHook,
    EnforcementGateway,
    Outcome,
)
from workflows.enforcement.views import PER_ACCOUNT_REPORTS_UP_TO, RequestView, load_view
from workflows.jobs import JobRunner
from workflows.leases import LeaseKeeper
from workflows.metrics import ENFORCEMENT_ACTIONS, ENFORCEMENT_CALL_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """DESIGN.md: exponential backoff with jitter from 1 s, capped at 60 s, honouring
    Retry-After; after 10 minutes of transient failure the action is failed (retryable)."""

    base: float = 1.0
    cap: float = 60.0
    give_up_after: timedelta = timedelta(minutes=10)

    def delay(self, attempt: int, retry_after: float | None) -> timedelta:
        backoff = random.uniform(0.5, 1.0) * min(self.cap, self.base * 2 ** max(0, attempt - 1))
        if retry_after is not None:
            backoff = max(retry_after, backoff)
        return timedelta(seconds=backoff)


@dataclass(frozen=True)
class EnforcerOptions:
    """Timings, injectable so tests never wait for real backoff."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Short, because a heartbeat renews it every lease/3 while the call is in flight: a dead
    # process's actions are taken over within one lease of a restart.
    lease: timedelta = timedelta(seconds=30)
    heartbeat_every: float | None = None  # seconds; None: lease / 3
    poll_seconds: float = 1.0
    progress_every: float = 5.0  # seconds between progress message updates (bulk)
    # Seconds between result writes while calls are in flight: long enough that a batch
    # fills (~100 at 200+ calls/s), short enough that progress and a crash lose little.
    flush_every: float = 0.5
    flush_batch: int = 100  # results per transaction
    backlog_factor: int = 4  # calls handed to the pool at once, per unit of concurrency
    call_timeout: float = 10.0  # the overall deadline of one call to the enforcement API
    monotonic: Callable[[], float] = time.monotonic


@dataclass
class _Claimed:
    action_id: int
    request_id: int
    call: ActionCall
    future: Future[Outcome | None] | None = None


@dataclass
class _Result:
    claimed: _Claimed
    outcome: Outcome | None  # None: not called, its lease may have run out (someone else's now)


class Executor:
    """The background worker of enforcement; ``gateway`` None (manual mode) runs nothing.

    ``progress`` posts a bulk request's progress message (live, between result batches);
    everything else people read is queued as jobs with the results.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: EnforcementSettings,
        gateway: EnforcementGateway | None,
        jobs: JobRunner,
        progress: Callable[[RequestView], None],
        options: EnforcerOptions | None = None,
        lease_clock: Clock | None = None,
        decisions: DecisionHook | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.decisions = decisions
        self.gateway = gateway
        self.jobs = jobs
        self.progress = progress
        self.options = options or EnforcerOptions()
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # A call is never started with less than its deadline left on its lease, so even with
        # no heartbeat reaching the database it ends before anyone else may take the row.
        self.leases = LeaseKeeper(
            db,
            EnforcementAction,
            self.worker_id,
            self.options.lease,
            lease_clock or SystemClock(),
            every=self.options.heartbeat_every,
            margin=self.options.call_timeout,
            monotonic=self.options.monotonic,
            name="enforcement",
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._requests: dict[int, dict[str, Any]] = {}
        self._last_progress: dict[int, float] = {}
        self._lock = threading.Lock()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        """Resume whatever is due (a restart picks up where the last process stopped)."""
        if self.gateway is None or self._thread is not None:
            return
        self._stop.clear()
        self.leases.start_heartbeat()
        self._thread = threading.Thread(target=self._loop, name="vigil-enforcement", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Stop claiming and give back the calls not started yet, now; the calls in flight
        keep their leases until they end (safe in a signal handler: it only sets flags)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; finish and record the calls in flight; give back the rest."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            self.leases.stop_heartbeat()

    def run_until_idle(self) -> int:
        """Run in this thread until nothing is due (tests, the CLI); returns calls made."""
        with self.leases.beating():
            return self._drain(until_idle=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain(until_idle=False)
            except Exception:
                log.exception("enforcement worker round failed; retrying")
            self._wake.wait(self.options.poll_seconds)
            self._wake.clear()

    def _drain(self, *, until_idle: bool) -> int:
        gateway = self.gateway
        if gateway is None:
            return 0
        concurrency = self.config.concurrency
        # A gateway that runs calls on its own loop takes them directly; the pool's threads
        # serve one that only has the blocking ``execute``.
        submit = gateway.submit if isinstance(gateway, ConcurrentEnforcementGateway) else None
        # Calls handed to the pool at once: enough to keep it busy while results are written,
        # few enough that a crash strands little (a dead worker's leases run out and are retried).
        backlog = self.options.backlog_factor * concurrency
        in_flight: list[_Claimed] = []
        results: list[_Result] = []
        calls = 0
        last_flush = self.options.monotonic()
        try:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="vigil-enforce") as pool:
                while True:
                    if self._stop.is_set():
                        # Stop: calls not started yet are given back; the ones under way finish below.
                        not_started = [c for c in in_flight if c.future is not None and c.future.cancel()]
                        if not_started:
                            self._release(not_started)
                            gone = {id(c) for c in not_started}
                            in_flight = [c for c in in_flight if id(c) not in gone]
                            calls -= len(not_started)
                    elif len(in_flight) <= backlog // 2:
                        # Half the backlog at a time: one claim transaction per twice the concurrency
                        # calls while the other half keeps the pool busy.
                        for claimed in self._claim(backlog - len(in_flight)):
                            claimed.future = (
                                submit(claimed.call, partial(self.leases.start, claimed.action_id))
                                if submit is not None
                                else pool.submit(self._call, gateway, claimed)
                            )
                            in_flight.append(claimed)
                            calls += 1
                    if not in_flight:
                        self._flush(results)
                        results = []
                        if until_idle and not self._stop.is_set() and self._has_due():
                            continue
                        return calls
                    futures = [c.future for c in in_flight if c.future is not None]
                    wait(futures, timeout=self.options.flush_every, return_when=FIRST_COMPLETED)
                    pending = []
                    for claimed in in_flight:
                        if claimed.future is not None and claimed.future.done():
                            results.append(_Result(claimed, claimed.future.result()))
                        else:
                            pending.append(claimed)
                    in_flight = pending
                    now = self.options.monotonic()
                    due = now - last_flush >= self.options.flush_every
                    if len(results) >= self.options.flush_batch or due:
                        self._flush(results, busy={c.request_id for c in in_flight})
                        results = []
                        last_flush = now
        finally:
            # A round that failed (the database, mostly) stops renewing what it could not record:
            # those leases run out and the actions are retried, with the same keys.
            self.leases.forget([c.action_id for c in in_flight] + [r.claimed.action_id for r in results])

    def _call(self, gateway: EnforcementGateway, claimed: _Claimed) -> Outcome | None:
        if not self.leases.start(claimed.action_id):
            return None
        call = claimed.call
        started = time.perf_counter()
        try:
            return gateway.execute(call)
        except Exception as exc:  # a bug or an unexpected library error: retry, never lose it
            log.exception("enforcement gateway raised", extra={"account": call.account_id})
            return Outcome("transient", None, f"{type(exc).__name__}: {exc}")
        finally:
            ENFORCEMENT_CALL_SECONDS.observe(time.perf_counter() - started)

    def _has_due(self) -> bool:
        with self.db.read() as session:
            return ledger.due_actions_exist(
                session, self.clock.now(), self.leases.clock.now(), self.leases.held()
            )

    def _claim(self, limit: int) -> list[_Claimed]:
        if limit <= 0:
            return []
        now = self.clock.now()
        with self.leases.claiming() as claim, self.db.transaction() as session:
            ids = ledger.claim_due_actions(
                session, self.worker_id, now, claim.lease_now, self.leases.lease, limit, claim.exclude
            )
            claim.ids = ids
            if not ids:
                return []
            claimed = []
            rows = ledger.claimed_actions(session, ids)
            notices = (
                self.decisions.notices_for(session, [(r.request_id, r.account_id) for r in rows])
                if self.decisions is not None
                else {}
            )
            for row in rows:
                info = self._request_info(session, row.request_id)
                claimed.append(
                    _Claimed(
                        row.id,
                        row.request_id,
                        ActionCall(
                            account_id=row.account_id,
                            action=row.action,
                            idempotency_key=row.idempotency_key,
                            reason_code=info["reason_code"],
                            note=info["note"],
                            request_ref=request_ref(row.request_id),
                            actor=info["requester"],
                            approved_by=info["approved_by"],
                            statement=notices.get((row.request_id, row.account_id)),
                        ),
                    )
                )
        return claimed

    def _request_info(self, session: Session, request_id: int) -> dict[str, Any]:
        """What every call of a request carries; fixed once approved, so cached."""
        with self._lock:
            cached = self._requests.get(request_id)
        if cached is not None:
            return cached
        request = ledger.get_request(session, request_id)
        assert request is not None
        info = {
            "reason_code": request.reason_code,
            "note": request.note,
            "requester": request.requester,
            "approved_by": ledger.approvers_of(session, request_id),
            "account_count": request.account_count,
        }
        with self._lock:
            self._requests[request_id] = info
        return info

    def _release(self, claimed: list[_Claimed]) -> None:
        ids = [c.action_id for c in claimed]
        with self.db.transaction() as session:
            ledger.release(session, ids, self.worker_id, self.clock.now())
        self.leases.forget(ids)

    def _flush(self, results: list[_Result], busy: Collection[int] = ()) -> None:
        """Record outcomes (ledger, timeline, audit) in one unit of work, then report them."""
        if not results:
            return
        self._record_all(results, busy)
        self.leases.forget([r.claimed.action_id for r in results])

    def _record_all(self, results: list[_Result], busy: Collection[int] = ()) -> None:
        """``busy``: requests with calls of this worker still under way, so not finished."""
        now = self.clock.now()
        outcomes = {r.claimed.action_id: r.outcome for r in results if r.outcome is not None}
        if not outcomes:
            return
        recorded: dict[int, list[str]] = {}  # request id → accounts with a result
        completed: list[int] = []
        with self.db.transaction() as session:
            rows = results_store.action_states(session, list(outcomes))
            requests = ledger.requests_by_id(session, {row.request_id for row in rows})
            writes: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            entries: list[dict[str, Any]] = []
            finished: list[tuple[int, str, str, str]] = []
            for row in rows:
                write, entry = self._record(now, row, outcomes[row.id])
                if write is None:
                    continue
                writes.append(write)
                if entry is not None:
                    request = requests[row.request_id]
                    events.append(
                        {
                            "request_id": request.id,
                            "account_id": row.account_id,
                            "at": now,
                            "actor": "vigil",
                            "kind": f"action.{write['new_status']}",
                            "data": entry,
                        }
                    )
                    entries.append(
                        {
                            "at": now,
                            "actor": "vigil",
                            "action": "enforcement.action",
                            "subject_type": "account",
                            "subject_id": row.account_id,
                            "data": {"request": request.ref, **entry},
                        }
                    )
                    recorded.setdefault(row.request_id, []).append(row.account_id)
                    finished.append((row.request_id, row.account_id, row.action, write["new_status"]))
            results_store.record_outcomes(session, writes)
            if finished and self.decisions is not None:
                self.decisions.finished(session, finished)
            results_store.add_events(session, events)
            audit.append_batch(session, entries)
            for request_id in recorded:
                # A request this worker still has calls of cannot be finished: skip the
                # question (a scan of its outstanding actions) until its last batch.
                if request_id not in busy and complete_if_finished(session, now, request_id, "vigil"):
                    completed.append(request_id)
            # What people must read (per-account results, the summary) is queued with the
            # results themselves: a Slack outage delays it, a restart does not lose it. A
            # small request's summary is queued by its results job, so it reads after them.
            for request_id, accounts in recorded.items():
                request = requests[request_id]
                key = summary_key(request_id, request.round)
                if request.account_count <= PER_ACCOUNT_REPORTS_UP_TO:
                    then = key if request_id in completed else None
                    queue_results(session, self.clock, request_id, accounts, then)
                elif request_id in completed:
                    queue_summary(session, self.clock, request_id, key)
        if recorded or completed:
            self.jobs.wake()
        for request_id in recorded:
            self._report_progress(request_id, request_id in completed)

    def _record(
        self, now: datetime, row: ActionState, outcome: Outcome
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One outcome: the ledger write (None when the row is no longer ours), and the
        result's event data when it is a result (None while it will be tried again)."""
        if row.locked_by != self.worker_id or row.status != RUNNING:
            return None, None  # our lease ran out and another worker took it: it records the result
        write = {
            "action_id": row.id,
            "result_code": outcome.status,
            "error": outcome.detail or None,
            "now": now,
        }
        if outcome.kind == "transient":
            first = row.first_attempt_at or now
            if now - first < self.options.retry.give_up_after:
                retry_at = now + self.options.retry.delay(row.attempts, outcome.retry_after)
                # Not a result yet: it will be tried again, with the same key.
                return {**write, "new_status": PENDING, "retry_at": retry_at, "finished_at": None}, None
            status, next_attempt_at = RETRYABLE, row.next_attempt_at
        else:
            status = {"done": DONE, "already": ALREADY, "permanent": FAILED}[outcome.kind]
            next_attempt_at = None
        ENFORCEMENT_ACTIONS.labels(action=row.action, outcome=status).inc()
        data = {
            "account_id": row.account_id,
            "action": row.action,
            "outcome": status,
            "http_status": outcome.status,
            "detail": outcome.detail,
            "attempts": row.attempts,
            "idempotency_key": row.idempotency_key,
        }
        return {**write, "new_status": status, "retry_at": next_attempt_at, "finished_at": now}, data

    def _report_progress(self, request_id: int, completed: bool) -> None:
        """A bulk request under way: its progress message, at most every ``progress_every``
        (per-account results and the summary are jobs, queued with the results)."""
        with self._lock:
            bulk = self._requests.get(request_id, {}).get("account_count", 0) > PER_ACCOUNT_REPORTS_UP_TO
        if not bulk or completed:
            return
        now = self.options.monotonic()
        with self._lock:
            last = self._last_progress.get(request_id)
            due = last is None or now - last >= self.options.progress_every
            if due:
                self._last_progress[request_id] = now
        if not due:
            return  # reading the request's counts costs more than this batch is worth
        with self.db.read() as session:
            view = load_view(session, request_id)
        if view is not None and view.card is not None and view.bulk:
            self.progress(view)

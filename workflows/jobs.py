"""The background worker: anything slower than an ack runs here, from rows in the store.

Handlers are registered per kind and receive the job's JSON payload. A handler that
raises is retried with exponential backoff until ``max_attempts``; a handler that raises
``PermanentJobError`` fails at once. Jobs are claimed under a short lease that a heartbeat
renews while the handler runs (workflows/leases.py): a dead process's jobs are taken over
within one lease, a slow handler keeps its job. Handlers must still be idempotent: a process
cut off from the database for longer than a lease loses its jobs to another worker.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from store import jobs as job_store
from store.db import Database
from store.jobs import Job
from workflows.clock import Clock, SystemClock
from workflows.leases import LeaseKeeper

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class PermanentJobError(Exception):
    """Retrying will not help (bad payload, a permanent refusal)."""


def backoff(attempt: int, base: float = 2.0, cap: float = 300.0) -> timedelta:
    """Exponential backoff with full jitter: attempt 1 → up to 2 s, … capped at ``cap``."""
    return timedelta(seconds=random.uniform(0.5, 1.0) * min(cap, base**attempt))


class JobRunner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 1.0,
        batch: int = 10,
        workers: int = 8,
        *,
        lease_clock: Clock | None = None,
        heartbeat_every: float | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Leases are wall time (lease_clock), never the business clock: a demo clock running a
        # week an hour must not hand a running job to another worker.
        self.leases = LeaseKeeper(
            db, Job, self.worker_id, lease, lease_clock or SystemClock(), every=heartbeat_every, name="jobs"
        )
        self._handlers: dict[str, Handler] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Several jobs at once, so one long job (a 10,000-account pre-check) or a slow Slack
        # call does not hold up the intake of a new escalation (Slack events are jobs too).
        self.workers = workers
        self._inflight: dict[Future[None], int] = {}  # job id of each job handed to the pool
        self._inflight_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def lease(self) -> timedelta:
        return self.leases.lease

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def wake(self) -> None:
        """Tell the local worker there is new work (other replicas find it by polling)."""
        self._wake.set()

    def _claim(self, limit: int) -> list[tuple[int, str, dict[str, Any], int, int]]:
        with self.leases.claiming() as claim, self.db.transaction() as session:
            jobs = job_store.claim(
                session,
                self.worker_id,
                self.clock.now(),
                claim.lease_now,
                self.leases.lease,
                limit,
                self.kinds,
                claim.exclude,
            )
            claim.ids = [job.id for job in jobs]
            return [(job.id, job.kind, dict(job.payload), job.attempts, job.max_attempts) for job in jobs]

    def run_once(self) -> int:
        """Claim and run one batch of due jobs here, one after the other; returns how many ran."""
        if not self._handlers:
            return 0
        with self.leases.beating():
            claimed = self._claim(self.batch)
            for job in claimed:
                self._run(*job)
        return len(claimed)

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            ran = self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    def _run(self, job_id: int, kind: str, payload: dict[str, Any], attempts: int, max_attempts: int) -> None:
        if not self.leases.start(job_id):
            return  # its lease may have run out meanwhile: whoever claims it next runs it
        try:
            self._execute(job_id, kind, payload, attempts, max_attempts)
        finally:
            self.leases.forget([job_id])

    def _execute(
        self, job_id: int, kind: str, payload: dict[str, Any], attempts: int, max_attempts: int
    ) -> None:
        try:
            self._handlers[kind](payload)
        except Exception as exc:
            permanent = isinstance(exc, PermanentJobError) or attempts >= max_attempts
            # An error may say when to come back (an HTTP Retry-After): never sooner than that.
            wait = max(backoff(attempts), timedelta(seconds=float(getattr(exc, "retry_after", None) or 0)))
            retry_at = None if permanent else self.clock.now() + wait
            log.warning(
                "job failed",
                extra={
                    "job_id": job_id,
                    "kind": kind,
                    "attempt": attempts,
                    "permanent": permanent,
                    "error": f"{type(exc).__name__}: {exc}"[:1000],  # the log pipeline redacts secrets
                },
                exc_info=not isinstance(exc, PermanentJobError),
            )
            with self.db.transaction() as session:
                job_store.fail(session, job_id, self.worker_id, self.clock.now(), repr(exc), retry_at)
            return
        with self.db.transaction() as session:
            job_store.finish(session, job_id, self.worker_id, self.clock.now())

    def _loop(self) -> None:
        assert self._pool is not None
        while not self._stop.is_set():
            with self._inflight_lock:
                free = self.workers - len(self._inflight)
            claimed = []
            if free > 0 and self._handlers:
                try:
                    claimed = self._claim(min(free, self.batch))
                except Exception:
                    log.exception("job worker round failed; retrying")
            for job in claimed:
                future = self._pool.submit(self._run, *job)
                with self._inflight_lock:
                    self._inflight[future] = job[0]
                future.add_done_callback(self._done)
            if not claimed:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        self._give_back_not_started()

    def _give_back_not_started(self) -> None:
        """On stop: jobs handed to the pool but not started go back at once, for any worker."""
        with self._inflight_lock:
            handed = list(self._inflight.items())
        # cancel() runs the done callback, which takes the lock: never under it.
        ids = [job_id for future, job_id in handed if future.cancel()]
        if not ids:
            return
        try:
            with self.db.transaction() as session:
                job_store.release(session, ids, self.worker_id)
        except Exception:  # their leases run out instead
            log.exception("could not give back jobs on stop", extra={"jobs": len(ids)})
        self.leases.forget(ids)

    def _done(self, future: Future[None]) -> None:
        with self._inflight_lock:
            self._inflight.pop(future, None)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:  # recording the outcome failed; the lease will hand the job on
            log.error("job bookkeeping failed", exc_info=error)
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self.leases.start_heartbeat()
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="vigil-job")
            self._thread = threading.Thread(target=self._loop, name="vigil-jobs", daemon=True)
            self._thread.start()

    def request_stop(self) -> None:
        """Stop claiming, and give back what has not started, now (safe in a signal handler:
        it only sets flags; the worker thread does the rest)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; give back jobs not started; let running jobs finish, their leases
        renewed until they do (a stop that times out leaves them to run out)."""
        self.request_stop()
        if self._thread is None:
            return
        self._thread.join(timeout)
        self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.leases.stop_heartbeat()


def enqueue(
    db_session: Any,
    clock: Clock,
    kind: str,
    payload: dict[str, Any],
    key: str | None = None,
    delay: timedelta | None = None,
    max_attempts: int = 10,
) -> bool:
    """Queue work in the caller's transaction, so it exists iff the change that needs it does."""
    now = clock.now()
    return job_store.enqueue(
        db_session,
        kind,
        payload,
        now,
        key=key,
        run_at=now + delay if delay else None,
        max_attempts=max_attempts,
    )

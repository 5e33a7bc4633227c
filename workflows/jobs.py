"""The background worker: anything slower than an ack runs here, from rows in the store.

Handlers are registered per kind and receive the job's JSON payload. A handler that
raises is retried with exponential backoff until ``max_attempts``; a handler that raises
``PermanentJobError`` fails at once. Handlers must be idempotent: a lease that runs out
while a handler is still working hands the row to another worker.
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
from workflows.clock import Clock

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
        lease: timedelta = timedelta(minutes=5),
        poll_seconds: float = 1.0,
        batch: int = 10,
        workers: int = 4,
    ) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._handlers: dict[str, Handler] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # A few jobs at once in the background, so one long job (a 10,000-account pre-check)
        # does not hold up a case card behind it.
        self.workers = workers
        self._inflight: set[Future[None]] = set()
        self._running: set[int] = set()  # job ids this process is running right now
        self._inflight_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

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
        with self._inflight_lock:
            running = set(self._running)
        with self.db.transaction() as session:
            claimed = [
                (job.id, job.kind, dict(job.payload), job.attempts, job.max_attempts)
                for job in job_store.claim(
                    session, self.worker_id, self.clock.now(), self.lease, limit, self.kinds, running
                )
            ]
        with self._inflight_lock:
            self._running.update(job[0] for job in claimed)
        return claimed

    def run_once(self) -> int:
        """Claim and run one batch of due jobs here, one after the other; returns how many ran."""
        if not self._handlers:
            return 0
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
        try:
            self._execute(job_id, kind, payload, attempts, max_attempts)
        finally:
            with self._inflight_lock:
                self._running.discard(job_id)

    def _execute(
        self, job_id: int, kind: str, payload: dict[str, Any], attempts: int, max_attempts: int
    ) -> None:
        try:
            self._handlers[kind](payload)
        except Exception as exc:
            permanent = isinstance(exc, PermanentJobError) or attempts >= max_attempts
            retry_at = None if permanent else self.clock.now() + backoff(attempts)
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
                    self._inflight.add(future)
                future.add_done_callback(self._done)
            if not claimed:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def _done(self, future: Future[None]) -> None:
        with self._inflight_lock:
            self._inflight.discard(future)
        error = future.exception()
        if error is not None:  # recording the outcome failed; the lease will hand the job on
            log.error("job bookkeeping failed", exc_info=error)
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="vigil-job")
            self._thread = threading.Thread(target=self._loop, name="vigil-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let running jobs finish (their leases cover a stop that times out)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
            self._pool = None


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

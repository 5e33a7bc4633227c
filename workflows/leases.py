"""The leases one worker holds, kept alive by a heartbeat (the SQL is in store/leases.py).

Both background workers use this: the job runner (workflows/jobs.py) and the enforcement
executor (workflows/enforcement/executor.py). A worker claims rows through ``claiming()``, asks
``start(id)`` right before it works on one, and ``forget``s it once the result is recorded or
the row is given back. While a row is held, a background thread renews the leases of all
held rows in one UPDATE every ``lease / 3``, so the lease can be short (a restart takes over
a dead worker's rows within one lease) and still never run out under work that is alive.

Two clocks, neither of them the business clock: ``clock`` gives the wall time written to
``lease_until`` (other replicas compare it with theirs; tests inject it), and ``monotonic``
tells this process how long a row is surely still its own: until ``lease - margin`` after the
last renewal that reached the database. A row past that is never started (another worker may
have it by now); ``margin`` is the longest the work can take once started (the enforcement
call's deadline), so work started in time also ends before its lease could run out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from store import leases as lease_store
from store.db import Database
from workflows.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class Claim:
    """One claim in progress: what to pass to the store, and the ids it took."""

    lease_now: datetime
    exclude: frozenset[int]
    started: float  # monotonic, before the claim's transaction
    ids: list[int] = field(default_factory=list)


@dataclass
class _Held:
    valid_until: float  # monotonic
    started: bool = False


class LeaseKeeper:
    def __init__(
        self,
        db: Database,
        model: Any,
        worker_id: str,
        lease: timedelta,
        clock: Clock,
        *,
        every: float | None = None,
        margin: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        name: str = "leases",
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("a lease must be longer than zero")
        self.db = db
        self.model = model
        self.worker_id = worker_id
        self.lease = lease
        self.clock = clock
        self.every = every if every is not None else lease.total_seconds() / 3
        # Work that may run longer than half a lease still gets half a lease to start in.
        self.margin = min(margin, lease.total_seconds() / 2)
        self.name = name
        self._monotonic = monotonic
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()
        self._users = 0
        self._thread: threading.Thread | None = None
        self._quit = threading.Event()  # the running heartbeat's own: a new one gets a new one

    # --- what the worker asks -------------------------------------------------------------------
    def held(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._held)

    def not_started(self) -> list[int]:
        with self._lock:
            return [row_id for row_id, held in self._held.items() if not held.started]

    @contextmanager
    def claiming(self) -> Iterator[Claim]:
        """``with keeper.claiming() as claim, db.transaction() as s: claim.ids = store_claim(…)``:
        the rows are held (renewed, excluded from this worker's next claims) once committed."""
        claim = Claim(lease_now=self.clock.now(), exclude=self.held(), started=self._monotonic())
        yield claim
        valid_until = claim.started + self._valid_for
        with self._lock:
            for row_id in claim.ids:
                self._held[row_id] = _Held(valid_until)

    def start(self, row_id: int) -> bool:
        """Right before working on a held row: True if it is surely still ours. A row whose
        lease may have run out (no renewal reached the database for too long) is dropped, and
        the worker must leave it alone: whoever claims it next does the work."""
        with self._lock:
            held = self._held.get(row_id)
            if held is None:
                return False
            if self._monotonic() >= held.valid_until:
                del self._held[row_id]
                log.warning("lease may have run out; not started", extra={"leases": self.name, "row": row_id})
                return False
            held.started = True
            return True

    def forget(self, ids: Collection[int]) -> None:
        """Stop renewing these rows (their result is recorded, or they were given back)."""
        with self._lock:
            for row_id in ids:
                self._held.pop(row_id, None)

    # --- the heartbeat ----------------------------------------------------------------------------
    @property
    def _valid_for(self) -> float:
        return self.lease.total_seconds() - self.margin

    def beat(self) -> int:
        """Renew every held lease now, in one UPDATE; returns how many were renewed."""
        with self._lock:
            ids = list(self._held)
        if not ids:
            return 0
        started = self._monotonic()
        until = self.clock.now() + self.lease
        try:
            with self.db.transaction() as session:
                renewed = lease_store.renew(session, self.model, self.worker_id, ids, until)
        except Exception:
            log.warning("lease heartbeat failed; trying again", extra={"leases": self.name}, exc_info=True)
            return 0
        valid_until = started + self._valid_for
        with self._lock:
            for row_id in renewed:
                held = self._held.get(row_id)
                if held is not None:
                    held.valid_until = valid_until
        return len(renewed)

    def _run(self, quit: threading.Event) -> None:
        while not quit.wait(self.every):
            self.beat()

    def start_heartbeat(self) -> None:
        with self._lock:
            self._users += 1
            if self._thread is not None:
                return
            self._quit = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._quit,), name=f"vigil-{self.name}-heartbeat", daemon=True
            )
            self._thread.start()

    def stop_heartbeat(self) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._thread is None:
                return
            thread, self._thread = self._thread, None
            self._quit.set()
        thread.join()

    @contextmanager
    def beating(self) -> Iterator[None]:
        """The heartbeat runs at least as long as this block (re-entrant)."""
        self.start_heartbeat()
        try:
            yield
        finally:
            self.stop_heartbeat()

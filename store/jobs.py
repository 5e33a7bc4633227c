"""Background work as rows: any replica's worker claims due rows under a lease
(store/leases.py, renewed by the worker's heartbeat while a job runs).

A worker that dies leaves its rows leased; when the lease runs out they are due again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store import leases
from store.base import Base, JSONType, UTCDateTime, insert_ignore
from store.leases import PENDING, RUNNING

DONE, FAILED = "done", "failed"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Same key, same job: enqueueing twice (two replicas, a retried event) is a no-op.
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 10,
) -> bool:
    values = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or now,
        "created_at": now,
    }
    if key is None:
        session.add(Job(**values))
        return True
    return insert_ignore(session, Job.__table__, values, ["key"])  # type: ignore[arg-type]


def claim(
    session: Session,
    worker_id: str,
    now: datetime,
    lease_now: datetime,
    lease: timedelta,
    limit: int,
    kinds: list[str],
    exclude: Collection[int] = (),
) -> list[Job]:
    """Due rows (``run_at`` by the business clock ``now``), or rows whose lease ran out (by the
    lease clock ``lease_now``); ``exclude`` are rows this worker is still running."""
    ids = leases.claim(
        session,
        Job,
        due=(Job.status == PENDING) & (Job.run_at <= now),
        scope=Job.kind.in_(kinds),
        worker_id=worker_id,
        lease_now=lease_now,
        lease=lease,
        limit=limit,
        order_by=(Job.run_at, Job.id),
        exclude=exclude,
        values={"attempts": Job.attempts + 1},
    )
    if not ids:
        return []
    return list(session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.run_at, Job.id)))


def release(session: Session, ids: Collection[int], worker_id: str) -> int:
    """Give back jobs this worker claimed and never started (a graceful stop)."""
    return leases.release(session, Job, worker_id, ids, {"attempts": Job.attempts - 1})


def finish(session: Session, job_id: int, worker_id: str, now: datetime) -> bool:
    """Mark done, unless the lease was lost to another worker meanwhile."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == RUNNING)
        .values(status=DONE, finished_at=now, lease_until=None, last_error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def fail(
    session: Session, job_id: int, worker_id: str, now: datetime, error: str, retry_at: datetime | None
) -> bool:
    values: dict[str, Any] = {"last_error": error[:4000], "lease_until": None}
    if retry_at is None:
        values.update(status=FAILED, finished_at=now)
    else:
        values.update(status=PENDING, run_at=retry_at)
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == RUNNING)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]

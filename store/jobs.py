"""Background work as rows: any replica's worker claims due rows under a lease.

PostgreSQL claims with FOR UPDATE SKIP LOCKED so replicas never wait on each other;
SQLite serialises writers (BEGIN IMMEDIATE) so the same statements are safe there.
A worker that dies leaves its rows leased; when the lease runs out they are due again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


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
    lease: timedelta,
    limit: int,
    kinds: list[str],
    exclude: set[int] | frozenset[int] = frozenset(),
) -> list[Job]:
    """Due rows, or rows whose lease ran out; ``exclude`` are rows this process is still
    running (its own lease may look expired to a clock that jumped, but the work is alive)."""
    due = (
        select(Job)
        .where(Job.kind.in_(kinds))
        .where(
            ((Job.status == PENDING) & (Job.run_at <= now))
            | ((Job.status == RUNNING) & (Job.lease_until < now))
        )
        .where(Job.id.not_in(exclude) if exclude else True)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(due))
    for job in jobs:
        job.status = RUNNING
        job.locked_by = worker_id
        job.lease_until = now + lease
        job.attempts += 1
    session.flush()
    return jobs


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

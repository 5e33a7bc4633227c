"""Claim-under-lease: the SQL every table of background work shares (jobs, enforcement actions).

A row is ``pending`` until a worker claims it: ``running``, ``locked_by`` the worker,
``lease_until`` a wall-clock instant. The worker renews the lease while it works on the row
(workflows/leases.py is the heartbeat) and gives back rows it never started. A row whose
lease ran out belongs to nobody: any worker may claim it again (its worker died, or lost the
database for longer than a lease).

PostgreSQL claims with FOR UPDATE SKIP LOCKED, so replicas never wait on each other or take
the same row; SQLite serialises writers (every write transaction is BEGIN IMMEDIATE,
store/db.py), so the same statements are safe there.

``lease_until`` is wall time from the lease clock, never the business clock: a demo clock that
runs a week an hour must not expire a call that has been open for a second.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true, update
from sqlalchemy.orm import Session

PENDING, RUNNING = "pending", "running"


def expired(model: Any, lease_now: datetime) -> ColumnElement[bool]:
    """Rows someone claimed whose lease ran out (their worker is gone or cut off)."""
    return and_(model.status == RUNNING, model.lease_until < lease_now)


def claimable(model: Any, due: ColumnElement[bool], lease_now: datetime) -> ColumnElement[bool]:
    return or_(due, expired(model, lease_now))


def claim(
    session: Session,
    model: Any,
    *,
    due: ColumnElement[bool],
    worker_id: str,
    lease_now: datetime,
    lease: timedelta,
    limit: int,
    order_by: Collection[Any],
    scope: ColumnElement[bool] | None = None,
    exclude: Collection[int] = (),
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Lease up to ``limit`` rows that are ``due`` (pending and their time has come) or whose
    lease ran out; returns their ids in ``order_by`` order.

    ``exclude``: rows this worker is still working on. Its own lease may look expired (a
    heartbeat that could not reach the database, clocks that jumped) but the work is alive;
    claiming it again would run it twice, concurrently. ``values``: what else the claim sets
    (attempts + 1, first attempt…).
    """
    if limit <= 0:
        return []
    query = (
        select(model.id)
        .where(scope if scope is not None else true())
        .where(claimable(model, due, lease_now))
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude:
        query = query.where(model.id.not_in(list(exclude)))
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(status=RUNNING, locked_by=worker_id, lease_until=lease_now + lease, **(values or {}))
            .execution_options(synchronize_session=False)
        )
    return ids


def renew(session: Session, model: Any, worker_id: str, ids: Collection[int], until: datetime) -> set[int]:
    """Extend this worker's leases of ``ids`` to ``until`` in one UPDATE; returns the ids that
    are still this worker's (a row another worker took over, or one already finished, is not).

    Rows locked by a transaction of this worker right now (recording a result) are skipped,
    not waited for: they are being finished, and waiting could deadlock with that transaction.
    """
    if not ids:
        return set()
    mine = (
        select(model.id)
        .where(model.id.in_(list(ids)), model.locked_by == worker_id, model.status == RUNNING)
        .order_by(model.id)
        .with_for_update(skip_locked=True)
    )
    renewed = session.scalars(
        update(model)
        .where(model.id.in_(mine))
        .values(lease_until=until)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return set(renewed)


def release(
    session: Session,
    model: Any,
    worker_id: str,
    ids: Collection[int],
    values: Mapping[str, Any] | None = None,
) -> int:
    """Give back rows this worker claimed and never started (a graceful stop): pending again,
    at once, for any worker; ``values`` undo what the claim counted."""
    if not ids:
        return 0
    result = session.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.locked_by == worker_id, model.status == RUNNING)
        .values(status=PENDING, locked_by=None, lease_until=None, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]

"""Writing a batch of call results: a statement per table, not an ORM unit of work.

The enforcement worker records ~100 outcomes per transaction. Loading them as ORM objects,
changing attributes and flushing cost more CPU than the calls themselves (and the GIL that
CPU holds is the one the HTTP calls in flight wait for); on PostgreSQL every statement is a
round trip. Here a batch is one SELECT of the columns the worker reads, one executemany
UPDATE of the ledger rows and one multi-row INSERT of their timeline events.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from store.enforcement.models import EnforcementAction, EnforcementEvent


class ActionState(NamedTuple):
    """What the worker needs to know about a claimed action to record its outcome."""

    id: int
    request_id: int
    account_id: str
    action: str
    idempotency_key: str
    status: str
    locked_by: str | None
    attempts: int
    first_attempt_at: datetime | None
    next_attempt_at: datetime | None


_A = EnforcementAction


def action_states(session: Session, ids: Collection[int]) -> list[ActionState]:
    rows = session.execute(
        select(
            _A.id,
            _A.request_id,
            _A.account_id,
            _A.action,
            _A.idempotency_key,
            _A.status,
            _A.locked_by,
            _A.attempts,
            _A.first_attempt_at,
            _A.next_attempt_at,
        )
        .where(_A.id.in_(list(ids)))
        .order_by(_A.id)
    )
    return [ActionState(*row) for row in rows]


_RECORD = (
    update(_A)
    .where(_A.id == bindparam("action_id"))
    .values(
        result_code=bindparam("result_code"),
        error=bindparam("error"),
        updated_at=bindparam("now"),
        lease_until=None,
        locked_by=None,
        status=bindparam("new_status"),
        next_attempt_at=bindparam("retry_at"),
        finished_at=bindparam("finished_at"),
    )
)


def record_outcomes(session: Session, outcomes: list[dict[str, Any]]) -> None:
    """Each dict: action_id, result_code, error, now, new_status, retry_at, finished_at (None
    while the action will be tried again). The lease is given up with the outcome."""
    if outcomes:
        session.connection().execute(_RECORD, outcomes)


def add_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Timeline events (request_id, account_id, at, actor, kind, data), one INSERT."""
    if events:
        session.connection().execute(insert(EnforcementEvent), events)

"""Transparency figures (DSA Art. 15/24), counted by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from store.decisions.appeals import OVERTURNED, UPHELD, AppealRow
from store.decisions.statements import BLOCKED, FAILED, FROZEN, StatementRow
from store.enforcement import (
    EXECUTED,
    EnforcementAction,
)

STATEMENT_FIELDS = ("category", "decision_ground", "source_type", "automated_detection", "automated_decision")


def restrictions_by(
    session: Session, field: str, start: datetime, end: datetime
) -> list[tuple[str | None, int]]:
    """Executed suspensions in [start, end) counted by one field of their statement (None: no
    statement, e.g. before the dsa: section was configured)."""
    value = StatementRow.body[field].as_string() if field in STATEMENT_FIELDS else StatementRow.body[field]
    query = (
        select(value, func.count())
        .select_from(EnforcementAction)
        .outerjoin(
            StatementRow,
            and_(
                StatementRow.request_id == EnforcementAction.request_id,
                StatementRow.account_id == EnforcementAction.account_id,
            ),
        )
        .where(
            EnforcementAction.action == "suspend",
            EnforcementAction.status.in_(EXECUTED),
            EnforcementAction.finished_at >= start,
            EnforcementAction.finished_at < end,
        )
        .group_by(value)
    )
    return [(key, int(n)) for key, n in session.execute(query).all()]


def appeal_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    def count(*where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(AppealRow).where(*where)) or 0)

    received = (AppealRow.received_at >= start, AppealRow.received_at < end)
    decided = (AppealRow.decided_at >= start, AppealRow.decided_at < end)
    return {
        "received": count(*received),
        "received_late": count(*received, AppealRow.late.is_(True)),
        "decided": count(*decided),
        "upheld": count(*decided, AppealRow.outcome == UPHELD),
        "overturned": count(*decided, AppealRow.outcome == OVERTURNED),
        "decided_past_deadline": count(*decided, AppealRow.decided_at > AppealRow.due_at),
    }


def appeal_decision_times(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(received, decided) of appeals decided in [start, end): their median is taken by the caller,
    since SQLite has no percentile function."""
    rows = session.execute(
        select(AppealRow.received_at, AppealRow.decided_at).where(
            AppealRow.decided_at >= start, AppealRow.decided_at < end
        )
    ).all()
    return [(r, d) for r, d in rows if d is not None]


def statement_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    submitted = session.scalar(
        select(func.count()).where(StatementRow.submitted_at >= start, StatementRow.submitted_at < end)
    )
    by_status = session.execute(
        select(StatementRow.status, func.count())
        .where(StatementRow.created_at >= start, StatementRow.created_at < end)
        .group_by(StatementRow.status)
    ).all()
    counts = {status: int(n) for status, n in by_status}
    return {
        "submitted": int(submitted or 0),
        "failed": counts.get(FAILED, 0),
        "blocked": counts.get(BLOCKED, 0),
        "awaiting_submission": counts.get(FROZEN, 0),
    }


def open_appeals_past_deadline(session: Session, at: datetime) -> int:
    """Appeals still undecided at ``at`` whose deadline had passed by then."""
    return int(
        session.scalar(
            select(func.count()).where(
                AppealRow.received_at < at,
                AppealRow.due_at < at,
                or_(AppealRow.decided_at.is_(None), AppealRow.decided_at >= at),
            )
        )
        or 0
    )

"""Statements of reasons: one per executed restriction of one account, and every query about them.

A statement is drafted with its request, frozen when the request is approved and submitted to
the Transparency Database once its action has executed. ``puid`` is unique here as it is in the
database, so a statement can never be written, nor counted as submitted, twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime
from store.enforcement import (
    EXECUTED,
    EnforcementAction,
)
from store.signals import Report

# Statuses: drafted (request pending), frozen (approved, waiting for the action and the
# submission), submitted, failed (kept and retried; ``error`` says why), withdrawn (the request
# was rejected or expired: no restriction, no statement).
DRAFTED, FROZEN, SUBMITTED, FAILED, WITHDRAWN = "drafted", "frozen", "submitted", "failed", "withdrawn"
BLOCKED = "blocked"  # personal data in the facts: waits for a person, never retried as is


class StatementRow(Base):
    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dsa_id: Mapped[str | None] = mapped_column(String(64))  # the database's uuid once submitted
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def add_statements(session: Session, rows: list[dict[str, Any]]) -> None:
    session.add_all(StatementRow(**row) for row in rows)
    session.flush()


def of_request(session: Session, request_id: int) -> list[StatementRow]:
    return list(
        session.scalars(
            select(StatementRow).where(StatementRow.request_id == request_id).order_by(StatementRow.id)
        )
    )


def of_account(session: Session, account_id: str) -> list[StatementRow]:
    return list(
        session.scalars(
            select(StatementRow).where(StatementRow.account_id == account_id).order_by(StatementRow.id.desc())
        )
    )


def by_puid(session: Session, puids: Sequence[str]) -> dict[str, StatementRow]:
    rows = session.scalars(select(StatementRow).where(StatementRow.puid.in_(list(puids))))
    return {row.puid: row for row in rows}


def set_status(session: Session, request_id: int, from_status: str, to_status: str, now: datetime) -> int:
    result = session.execute(
        update(StatementRow)
        .where(StatementRow.request_id == request_id, StatementRow.status == from_status)
        .values(status=to_status, updated_at=now, next_attempt_at=now if to_status == FROZEN else None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_for_submission(session: Session, now: datetime, limit: int) -> list[StatementRow]:
    """Frozen or failed statements whose action has executed and whose retry time has come."""
    query = (
        select(StatementRow)
        .join(
            EnforcementAction,
            and_(
                EnforcementAction.request_id == StatementRow.request_id,
                EnforcementAction.account_id == StatementRow.account_id,
            ),
        )
        .where(
            StatementRow.status.in_([FROZEN, FAILED]),
            EnforcementAction.status.in_(EXECUTED),
            or_(StatementRow.next_attempt_at.is_(None), StatementRow.next_attempt_at <= now),
        )
        .order_by(StatementRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def for_actions(session: Session, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], StatementRow]:
    """Statements of (request_id, account_id) pairs: what enforcement calls carry."""
    if not keys:
        return {}
    requests = {request_id for request_id, _ in keys}
    rows = session.scalars(
        select(StatementRow).where(
            StatementRow.request_id.in_(requests),
            StatementRow.account_id.in_([account for _, account in keys]),
        )
    )
    return {(row.request_id, row.account_id): row for row in rows}


def summary_of_request(session: Session, request_id: int) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The first statement's body (a request's statements share their text) and the count of
    its statements by status: what the approval card shows, in two small queries."""
    first = session.scalars(
        select(StatementRow.body)
        .where(StatementRow.request_id == request_id)
        .order_by(StatementRow.id)
        .limit(1)
    ).first()
    counts = session.execute(
        select(StatementRow.status, func.count())
        .where(StatementRow.request_id == request_id)
        .group_by(StatementRow.status)
    ).all()
    return (dict(first) if first is not None else None), {status: int(n) for status, n in counts}


# Appeal outcomes.


def statements_between(session: Session, start: datetime, end: datetime) -> list[StatementRow]:
    """Statements frozen (approved) or beyond, drafted in [start, end): what an export carries."""
    return list(
        session.scalars(
            select(StatementRow)
            .where(
                StatementRow.created_at >= start,
                StatementRow.created_at < end,
                StatementRow.status.not_in([DRAFTED, WITHDRAWN]),
            )
            .order_by(StatementRow.id)
        )
    )


def case_has_reports(session: Session, case_id: int) -> bool:
    """Whether a user's abuse report (a ``report`` signal) was routed to the case."""
    return session.scalar(select(Report.id).where(Report.case_id == case_id).limit(1)) is not None

"""Investigations (INV-<n>) of one account, and their timeline; and every query the
investigations workflow asks of them (and of the cases an account is in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, and_, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore
from store.cases import Case, CaseAccount

INVESTIGATION_PREFIX = "INV-"
OPEN, CLOSED = "open", "closed"


class Investigation(Base):
    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    # The account id while open, NULL once closed: the database keeps one open investigation
    # per account even when two analysts click at once.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # OPEN, CLOSED
    opened_by: Mapped[str] = mapped_column(String(32), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anomaly_id: Mapped[int | None] = mapped_column(ForeignKey("anomalies.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    findings: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    @property
    def ref(self) -> str:
        return f"{INVESTIGATION_PREFIX}{self.id}"


class InvestigationEvent(Base):
    __tablename__ = "investigation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


def parse_investigation_ref(ref: str) -> int | None:
    text = ref.strip().upper()
    if text.startswith(INVESTIGATION_PREFIX):
        text = text[len(INVESTIGATION_PREFIX) :]
    return int(text) if text.isdigit() else None


def timeline(session: Session, investigation_id: int) -> list[InvestigationEvent]:
    return list(
        session.scalars(
            select(InvestigationEvent)
            .where(InvestigationEvent.investigation_id == investigation_id)
            .order_by(InvestigationEvent.id)
        )
    )


def add_event(
    session: Session, investigation_id: int, at: datetime, actor: str | None, kind: str, data: dict[str, Any]
) -> None:
    session.add(
        InvestigationEvent(investigation_id=investigation_id, at=at, actor=actor, kind=kind, data=data)
    )


def open_if_none_open(session: Session, values: dict[str, Any]) -> bool:
    """Opens an investigation unless its account has an open one (``open_key`` is unique);
    True when this call opened it."""
    return insert_ignore(session, Investigation.__table__, values, ["open_key"])  # type: ignore[arg-type]


def open_investigation_of(session: Session, account_id: str) -> Investigation:
    return session.scalars(select(Investigation).where(Investigation.open_key == account_id)).one()


def close_if_open(session: Session, investigation_id: int, values: dict[str, Any]) -> bool:
    """One conditional UPDATE; True when it closed the investigation (False: no such
    investigation, or closed already)."""
    closed = session.execute(
        update(Investigation)
        .where(Investigation.id == investigation_id, Investigation.status == OPEN)
        .values(status=CLOSED, open_key=None, **values)
        .returning(Investigation.id)
    ).first()
    return closed is not None


def mark_posted(session: Session, investigation_id: int, channel: str, ts: str) -> bool:
    """Where the investigation was posted, unless that was recorded already; True when this
    call recorded it."""
    done = session.execute(
        update(Investigation)
        .where(Investigation.id == investigation_id, Investigation.message_ts.is_(None))
        .values(channel=channel, message_ts=ts)
        .returning(Investigation.id)
    ).first()
    return done is not None


def open_ones_of(session: Session, user: str, limit: int) -> list[Investigation]:
    """The investigations ``user`` opened that are still open, newest first."""
    return list(
        session.scalars(
            select(Investigation)
            .where(Investigation.opened_by == user, Investigation.status == OPEN)
            .order_by(Investigation.opened_at.desc(), Investigation.id.desc())
            .limit(limit)
        )
    )


def of_account(session: Session, account_id: str, limit: int) -> list[Investigation]:
    """Every investigation of the account, newest first."""
    return list(
        session.scalars(
            select(Investigation)
            .where(Investigation.account_id == account_id)
            .order_by(Investigation.id.desc())
            .limit(limit)
        )
    )


def cases_of_account(session: Session, account_id: str, limit: int) -> list[Case]:
    """The cases that mention the account, newest first."""
    return list(
        session.scalars(
            select(Case)
            .join(CaseAccount, CaseAccount.case_id == Case.id)
            .where(CaseAccount.account_id == account_id)
            .order_by(Case.created_at.desc())
            .limit(limit)
        ).all()
    )


# --- the weekly review ----------------------------------------------------------------------
def opened_between(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count()).where(Investigation.opened_at >= start, Investigation.opened_at < end)
        )
        or 0
    )


def outcomes_between(session: Session, start: datetime, end: datetime) -> list[tuple[str | None, int]]:
    """(outcome, how many) of the investigations closed in [start, end)."""
    rows = session.execute(
        select(Investigation.outcome, func.count())
        .where(Investigation.closed_at >= start, Investigation.closed_at < end)
        .group_by(Investigation.outcome)
    ).all()
    return [(outcome, count) for outcome, count in rows]


def _open_at(end: datetime) -> Any:
    return and_(
        Investigation.opened_at < end,
        or_(Investigation.closed_at.is_(None), Investigation.closed_at >= end),
    )


def open_count_at(session: Session, end: datetime) -> int:
    return session.scalar(select(func.count()).where(_open_at(end))) or 0


def oldest_open_at(session: Session, end: datetime, limit: int = 5) -> list[Investigation]:
    return list(
        session.scalars(
            select(Investigation).where(_open_at(end)).order_by(Investigation.opened_at).limit(limit)
        )
    )

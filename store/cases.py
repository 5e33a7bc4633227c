"""Cases (escalations), their timeline and the accounts they mention, and every query about
them: the cases workflows ask these by name and never build SQL themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore

CASE_PREFIX = "CASE-"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # One case per Slack message, whoever delivers it first (retry, replica, shortcut).
        UniqueConstraint("channel", "ts", name="uq_cases_channel_ts"),
        Index("ix_cases_status_priority", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # channel, shortcut
    author: Mapped[str | None] = mapped_column(String(32))
    author_is_bot: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))  # new, claimed, resolved
    outcome: Mapped[str | None] = mapped_column(String(16))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source_deleted: Mapped[bool] = mapped_column(default=False)
    card_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(300))
    # What playbook rules added (live mode only): labels, "do this" hints, a second look.
    labels: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default="[]")
    second_review: Mapped[str | None] = mapped_column(Text)

    @property
    def ref(self) -> str:
        return f"{CASE_PREFIX}{self.id}"


class CaseEvent(Base):
    """The timeline: every state change of a case, written in the same transaction."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class CaseAccount(Base):
    __tablename__ = "case_accounts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


# Statuses as stored (workflows/cases/views.py names them for readers).
_NEW, _CLAIMED, _RESOLVED = "new", "claimed", "resolved"


# --- writing ----------------------------------------
def add_case_unless_exists(session: Session, values: dict[str, Any]) -> bool:
    """Insert the case for a Slack message unless one exists (keyed by channel and ts, in the
    database): a retry, a second replica or the shortcut find the first. True when inserted."""
    return insert_ignore(session, Case.__table__, values, ["channel", "ts"])  # type: ignore[arg-type]


def add_accounts(session: Session, case_id: int, accounts: list[str]) -> None:
    session.add_all(CaseAccount(case_id=case_id, account_id=account) for account in accounts)


def add_event(
    session: Session, case_id: int, at: datetime, actor: str | None, kind: str, data: dict[str, Any]
) -> None:
    """Append to a case's timeline, in the caller's transaction."""
    session.add(CaseEvent(case_id=case_id, at=at, actor=actor, kind=kind, data=data))


def _update_if(session: Session, case_id: int, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """Change a case only if ``conditions`` still hold, in one statement (never read, then
    write): a double click or two people at once get exactly one winner. True for the winner,
    whose session copy of the case is refreshed."""
    won = session.execute(
        update(Case).where(Case.id == case_id, *conditions).values(**values).returning(Case.id)
    ).first()
    if won is not None:
        case = session.get(Case, case_id)
        if case is not None:
            session.refresh(case)
    return won is not None


def claim_if_unclaimed(session: Session, case_id: int, user: str, now: datetime) -> bool:
    return _update_if(
        session,
        case_id,
        Case.claimed_by.is_(None),
        Case.status != _RESOLVED,
        claimed_by=user,
        claimed_at=now,
        status=_CLAIMED,
        updated_at=now,
    )


def release_if_owner(session: Session, case_id: int, user: str, now: datetime) -> bool:
    return _update_if(
        session,
        case_id,
        Case.claimed_by == user,
        Case.status == _CLAIMED,
        claimed_by=None,
        claimed_at=None,
        status=_NEW,
        updated_at=now,
    )


def resolve_if_open(session: Session, case_id: int, user: str, outcome: str, now: datetime) -> bool:
    return _update_if(
        session,
        case_id,
        Case.status != _RESOLVED,
        status=_RESOLVED,
        outcome=outcome,
        resolved_by=user,
        resolved_at=now,
        updated_at=now,
    )


def mark_sla_nudged_once(session: Session, case_id: int, now: datetime) -> bool:
    """True only for the first caller ever: a nudge is posted once per case."""
    return _update_if(session, case_id, Case.sla_nudged_at.is_(None), sla_nudged_at=now)


def mark_sla_breached_once(session: Session, case_id: int, now: datetime) -> bool:
    """True only for the first caller ever: a breach notice is posted once per case."""
    return _update_if(session, case_id, Case.sla_breached_at.is_(None), sla_breached_at=now)


def keep_card_if_unset(session: Session, case_id: int, ts: str, permalink: str | None) -> bool:
    """Where the case card is; the first card stored stays (a retried post finds it)."""
    return _update_if(session, case_id, Case.card_ts.is_(None), card_ts=ts, permalink=permalink)


# --- reading ----------------------------------------
def case_by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def lock_case(session: Session, case_id: int) -> Case | None:
    """The case, locked until the transaction ends (SQLite: the write lock), for a change
    that reads its current value first (an escalation raises the priority one level)."""
    return session.get(Case, case_id, with_for_update=True)


def case_exists(session: Session, case_id: int) -> bool:
    return session.scalar(select(Case.id).where(Case.id == case_id)) is not None


def case_by_source(session: Session, channel: str, ts: str) -> Case | None:
    """The case a Slack message became, if it became one."""
    return session.scalars(select(Case).where(Case.channel == channel, Case.ts == ts)).first()


def case_of_note(session: Session, channel: str, note_ts: str) -> Case | None:
    """The case whose thread holds the note posted at ``note_ts`` in ``channel``."""
    return session.scalars(
        select(Case)
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(Case.channel == channel, CaseEvent.kind == "note", CaseEvent.data["ts"].as_string() == note_ts)
        .order_by(CaseEvent.id)
    ).first()


def accounts_of(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CaseAccount.account_id)
            .where(CaseAccount.case_id == case_id)
            .order_by(CaseAccount.account_id)
        )
    )


def timeline(session: Session, case_id: int, limit: int = 50) -> list[CaseEvent]:
    rows = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def _open_by_urgency() -> Select[tuple[Case]]:
    """Open cases, most urgent first: priority, then SLA due, then age."""
    return select(Case).where(Case.status != _RESOLVED).order_by(Case.priority, Case.sla_due_at, Case.id)


def count_open_cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(Case.status != _RESOLVED)) or 0


def most_urgent_open_cases(session: Session, limit: int) -> list[Case]:
    return list(session.scalars(_open_by_urgency().limit(limit)))


def open_cases_claimed_by(session: Session, user: str, limit: int) -> list[Case]:
    return list(session.scalars(_open_by_urgency().where(Case.claimed_by == user).limit(limit)))


def unclaimed_open_cases(session: Session, limit: int) -> list[Case]:
    return list(session.scalars(_open_by_urgency().where(Case.claimed_by.is_(None)).limit(limit)))


def open_cases_due_by(session: Session, due_by: datetime, limit: int) -> list[Case]:
    return list(session.scalars(_open_by_urgency().where(Case.sla_due_at <= due_by).limit(limit)))


def open_cases_due_by_never_breached(session: Session, due_by: datetime) -> list[Case]:
    """What the SLA check looks at: open, due by ``due_by``, no breach notice yet."""
    return list(
        session.scalars(
            select(Case).where(
                Case.status != _RESOLVED, Case.sla_due_at <= due_by, Case.sla_breached_at.is_(None)
            )
        )
    )

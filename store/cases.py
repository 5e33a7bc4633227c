"""Cases (escalations), their timeline and the accounts they mention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime

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


def add_event(
    session: Session, case_id: int, at: datetime, actor: str | None, kind: str, data: dict[str, Any]
) -> None:
    """Append to a case's timeline, in the caller's transaction."""
    session.add(CaseEvent(case_id=case_id, at=at, actor=actor, kind=kind, data=data))


def existing_case_id(session: Session, ref: str) -> int | None:
    """The id of the case ``ref`` (``CASE-12``) names, if that case exists."""
    case_id = parse_case_ref(ref)
    if case_id is None:
        return None
    return session.scalar(select(Case.id).where(Case.id == case_id))


def parse_case_ref(ref: str) -> int | None:
    text = ref.strip().upper()
    if text.startswith(CASE_PREFIX):
        text = text[len(CASE_PREFIX) :]
    return int(text) if text.isdigit() else None


def by_source(session: Session, channel: str, ts: str) -> Case | None:
    return session.scalars(select(Case).where(Case.channel == channel, Case.ts == ts)).first()


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

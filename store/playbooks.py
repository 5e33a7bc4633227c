"""Rule hits: every time a playbook rule matched a subject, live or in shadow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime


class RuleHit(Base):
    __tablename__ = "rule_hits"
    __table_args__ = (
        Index("ix_rule_hits_rule_at", "rule_id", "at"),
        Index("ix_rule_hits_subject", "subject_type", "subject_id"),
        Index("ix_rule_hits_account_at", "account_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    playbook_version: Mapped[str] = mapped_column(String(16))  # content hash of the rule's file
    trigger: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))  # the subject's account, if it has one
    mode: Mapped[str] = mapped_column(String(8))  # live, shadow
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    why: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


def hits_for(session: Session, subject_type: str, subject_id: str) -> list[RuleHit]:
    return list(
        session.scalars(
            select(RuleHit)
            .where(RuleHit.subject_type == subject_type, RuleHit.subject_id == subject_id)
            .order_by(RuleHit.id)
        )
    )


def hit_counts(session: Session, since: datetime) -> dict[tuple[str, str], int]:
    """(rule id, mode) → hits since ``since``."""
    rows = session.execute(
        select(RuleHit.rule_id, RuleHit.mode, func.count())
        .where(RuleHit.at >= since)
        .group_by(RuleHit.rule_id, RuleHit.mode)
    )
    return {(rule, mode): count for rule, mode, count in rows}


def hits_for_account(session: Session, account_id: str, limit: int = 20) -> list[RuleHit]:
    return list(
        session.scalars(
            select(RuleHit).where(RuleHit.account_id == account_id).order_by(RuleHit.at.desc()).limit(limit)
        )
    )

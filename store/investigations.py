"""Investigations (INV-<n>) of one account, and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime

INVESTIGATION_PREFIX = "INV-"


class Investigation(Base):
    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    # The account id while open, NULL once closed: the database keeps one open investigation
    # per account even when two analysts click at once.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # open, closed
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

"""Appeals (DSA Art. 20): one row per appeal, keyed by the platform's id, linked to the action it
contests and the case it is decided in; decided once (``decide_if_open``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime

UPHELD, OVERTURNED = "upheld", "overturned"


class AppealRow(Base):
    """A user's appeal against one executed action: a case of category ``appeal`` decides it."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appeal_id: Mapped[str] = mapped_column(String(100), unique=True)  # the platform's id
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64))
    puid: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(JSONType, default=list)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # past the appeal window: accepted, flagged
    # Raised inside the team (a QA disagreement escalated), not by the user: the platform is not told.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reinstatement_request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))


def appeal_by_platform_id(session: Session, appeal_id: str) -> AppealRow | None:
    return session.scalars(select(AppealRow).where(AppealRow.appeal_id == appeal_id)).first()


def appeal_by_id(session: Session, id_: int) -> AppealRow | None:
    return session.get(AppealRow, id_)


def open_appeal_of_case(session: Session, case_id: int) -> AppealRow | None:
    return session.scalars(
        select(AppealRow)
        .where(AppealRow.case_id == case_id, AppealRow.outcome.is_(None))
        .order_by(AppealRow.id)
    ).first()


def appeal_of_reinstatement(session: Session, request_id: int) -> AppealRow | None:
    return session.scalars(select(AppealRow).where(AppealRow.reinstatement_request_id == request_id)).first()


def add_appeal(session: Session, values: dict[str, Any]) -> AppealRow:
    row = AppealRow(**values)
    session.add(row)
    session.flush()
    return row


def decide_if_open(session: Session, id_: int, outcome: str, by: str, reason: str, now: datetime) -> bool:
    """One conditional UPDATE: an appeal is decided once, whoever clicks first."""
    result = session.execute(
        update(AppealRow)
        .where(AppealRow.id == id_, AppealRow.outcome.is_(None))
        .values(outcome=outcome, decided_by=by, reason=reason, decided_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]

"""This deployment's one row of facts about itself: when Vigil first started here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, insert_ignore

ROW_ID = 1


class Installation(Base):
    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_version: Mapped[str] = mapped_column(String(32))


def first_start(session: Session) -> datetime | None:
    row = session.get(Installation, ROW_ID)
    return row.first_started_at if row is not None else None


def record_first_start(session: Session, now: datetime, version: str) -> datetime:
    """The first start, recorded now if nobody has: whichever replica inserts first wins and
    every other one reads that same instant."""
    insert_ignore(
        session,
        Installation.__table__,  # type: ignore[arg-type]
        {"id": ROW_ID, "first_started_at": now, "first_version": version[:32]},
        ["id"],
    )
    started = first_start(session)
    assert started is not None
    return started

"""Slack deliveries already taken: the primary key makes a retry or a second replica a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, insert_ignore


class SlackEventSeen(Base):
    __tablename__ = "slack_events_seen"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    event_type: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def claim_event(
    session: Session, event_id: str, team_id: str | None, event_type: str | None, at: datetime
) -> bool:
    """True for the first delivery of ``event_id``; False for every later one."""
    return insert_ignore(
        session,
        SlackEventSeen.__table__,  # type: ignore[arg-type]
        {"event_id": event_id, "team_id": team_id, "event_type": event_type, "received_at": at},
        ["event_id"],
    )


def prune_events(session: Session, before: datetime) -> int:
    """Slack retries within the hour; a week of ids is plenty to stay duplicate-proof."""
    result = session.execute(delete(SlackEventSeen).where(SlackEventSeen.received_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]

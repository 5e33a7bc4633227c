"""Slack deliveries already taken: the primary key makes a retry or a second replica a no-op."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, insert_ignore
from store.jobs import PENDING, Job


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


@functools.cache
def _first_insert(dialect: str, table: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING, built and compiled once per process (the
    values are bound at execution), for the path that runs before every event's ack."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    target, conflict = {
        "slack_events_seen": (SlackEventSeen.__table__, "event_id"),
        "jobs": (Job.__table__, "key"),
    }[table]
    return (
        module.insert(target).on_conflict_do_nothing(index_elements=[conflict]).returning(target.c[conflict])
    )


def take_event(
    conn: Connection,
    event_id: str,
    team_id: str | None,
    event_type: str | None,
    at: datetime,
    job: tuple[str, dict[str, Any], str] | None = None,
) -> tuple[bool, bool]:
    """Record the first delivery of ``event_id`` and, for it, queue ``job`` (kind, payload,
    key) in the caller's transaction: (first delivery, job queued). Two indexed inserts on a
    bare connection, no ORM unit of work: this runs before the ack of every Slack event."""
    dialect = conn.dialect.name
    seen = {"event_id": event_id, "team_id": team_id, "event_type": event_type, "received_at": at}
    first = conn.execute(_first_insert(dialect, "slack_events_seen"), seen).first() is not None
    if not first or job is None:
        return first, False
    kind, payload, key = job
    values = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "max_attempts": 10,
        "run_at": at,
        "created_at": at,
    }
    return True, conn.execute(_first_insert(dialect, "jobs"), values).first() is not None


def prune_events(session: Session, before: datetime) -> int:
    """Slack retries within the hour; a week of ids is plenty to stay duplicate-proof."""
    result = session.execute(delete(SlackEventSeen).where(SlackEventSeen.received_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]

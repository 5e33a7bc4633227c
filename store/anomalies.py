"""Anomalies: one row per series, hour and kind, whoever detects it first; and every query
the anomalies workflow asks of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, and_, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore


class Anomaly(Base):
    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_series", "signal_type", "dimension", "dim_value", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # type|dimension|value|kind|hour: the scheduler on every replica and the CLI agree on it.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(64))  # '' for the type overall
    dim_value: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # spike, drop, new_contributor
    observed: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # new, posted, suppressed
    feedback: Mapped[str | None] = mapped_column(String(16))  # snoozed, not_an_issue, investigated
    feedback_by: Mapped[str | None] = mapped_column(String(32))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    chart_file_id: Mapped[str | None] = mapped_column(String(32))

    @property
    def series(self) -> str:
        where = f" {self.dimension}={self.dim_value}" if self.dimension else ""
        return f"{self.signal_type}{where}"


def insert_if_new(session: Session, values: dict[str, Any]) -> bool:
    """Stores the anomaly unless its key is stored already; True when this call stored it."""
    return insert_ignore(session, Anomaly.__table__, values, ["key"])  # type: ignore[arg-type]


def by_key(session: Session, key: str) -> Anomaly:
    return session.scalars(select(Anomaly).where(Anomaly.key == key)).one()


def series_snoozed(session: Session, anomaly: Anomaly, now: datetime) -> bool:
    """Whether another anomaly of the same series and kind is snoozed past ``now``."""
    snoozed = session.scalar(
        select(func.count())
        .select_from(Anomaly)
        .where(
            Anomaly.signal_type == anomaly.signal_type,
            Anomaly.dimension == anomaly.dimension,
            Anomaly.dim_value == anomaly.dim_value,
            Anomaly.kind == anomaly.kind,
            Anomaly.snoozed_until > now,
            Anomaly.id != anomaly.id,
        )
    )
    return bool(snoozed)


def give_feedback(session: Session, anomaly_id: int, values: dict[str, Any], only_if_none: bool) -> bool:
    """One conditional UPDATE; True when it changed the anomaly (False: no such anomaly, or
    ``only_if_none`` and it has feedback already)."""
    stmt = update(Anomaly).where(Anomaly.id == anomaly_id)
    if only_if_none:
        stmt = stmt.where(Anomaly.feedback.is_(None))
    return session.execute(stmt.values(**values).returning(Anomaly.id)).first() is not None


def mark_posted(session: Session, anomaly_id: int, channel: str, ts: str) -> None:
    """The alert's message, unless one was recorded already (the first post wins)."""
    session.execute(
        update(Anomaly)
        .where(Anomaly.id == anomaly_id, Anomaly.message_ts.is_(None))
        .values(message_ts=ts, channel=channel, status="posted")
    )


def has_chart(session: Session, anomaly_id: int) -> bool:
    return bool(session.scalar(select(Anomaly.chart_file_id).where(Anomaly.id == anomaly_id)))


def set_chart(session: Session, anomaly_id: int, file_id: str) -> None:
    session.execute(update(Anomaly).where(Anomaly.id == anomaly_id).values(chart_file_id=file_id))


# --- the weekly digest ----------------------------------------------------------------------
def kinds_detected_between(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    in_week = and_(Anomaly.detected_at >= start, Anomaly.detected_at < end)
    return dict(
        session.execute(select(Anomaly.kind, func.count()).where(in_week).group_by(Anomaly.kind)).all()
    )


def answered_between(session: Session, start: datetime, end: datetime) -> int:
    return (
        session.scalar(select(func.count()).where(Anomaly.feedback_at >= start, Anomaly.feedback_at < end))
        or 0
    )


def unanswered_at(session: Session, end: datetime) -> int:
    """Posted anomalies detected before ``end`` that nobody had answered by then."""
    return (
        session.scalar(
            select(func.count()).where(
                Anomaly.detected_at < end,
                Anomaly.status != "suppressed",
                or_(Anomaly.feedback_at.is_(None), Anomaly.feedback_at >= end),
            )
        )
        or 0
    )


def loudest_between(session: Session, start: datetime, end: datetime, limit: int = 5) -> list[Anomaly]:
    return list(
        session.scalars(
            select(Anomaly)
            .where(Anomaly.detected_at >= start, Anomaly.detected_at < end)
            .order_by(func.abs(Anomaly.score).desc(), Anomaly.id)
            .limit(limit)
        )
    )

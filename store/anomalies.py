"""Anomalies: one row per series, hour and kind, whoever detects it first; the incidents that
group them into episodes, each series' daily alert budget, the recurring shapes the team
dismissed; and every query the anomalies workflow asks of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
    update,
)
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


# --- incidents: one per episode of a series and kind -----------------------------------------
class Incident(Base):
    """Consecutive anomalous hours of one series and kind, posted once and updated in place."""

    __tablename__ = "anomaly_incidents"
    __table_args__ = (Index("ix_anomaly_incidents_series", "signal_type", "dimension", "dim_value", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # type|dimension|value|kind|first hour: replicas that open the same episode agree on it.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(64))
    dim_value: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime] = mapped_column(UTCDateTime())  # first anomalous hour
    last_hour: Mapped[datetime] = mapped_column(UTCDateTime())  # last anomalous hour so far
    hours: Mapped[int] = mapped_column(Integer, default=1)  # anomalous hours in the episode
    peak_score: Mapped[float] = mapped_column(Float)
    peak_observed: Mapped[float] = mapped_column(Float)
    peak_baseline: Mapped[float] = mapped_column(Float)
    peak_hour: Mapped[datetime] = mapped_column(UTCDateTime())
    peak_anomaly_id: Mapped[int | None] = mapped_column(Integer)
    expected: Mapped[str | None] = mapped_column(String(128))  # calendar label
    state: Mapped[str] = mapped_column(String(16), index=True)  # open, closed
    # alert (posted), expected (posted quietly), silent, over_budget, snoozed (stored only)
    delivery: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback: Mapped[str | None] = mapped_column(String(16))  # snoozed, not_an_issue, investigated
    feedback_by: Mapped[str | None] = mapped_column(String(32))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shape_id: Mapped[int | None] = mapped_column(Integer)  # the shape "Not an issue" remembered
    alert_day_id: Mapped[int | None] = mapped_column(Integer, index=True)  # its budget day
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    chart_file_id: Mapped[str | None] = mapped_column(String(32))
    closed_reply_ts: Mapped[str | None] = mapped_column(String(32))


class AlertDay(Base):
    """A series' alert budget for one day, and the one message summarising what went over it."""

    __tablename__ = "anomaly_alert_days"
    __table_args__ = (UniqueConstraint("signal_type", "dimension", "dim_value", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(64))
    dim_value: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    posted: Mapped[int] = mapped_column(Integer, default=0)
    overflow: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class Shape(Base):
    """A recurring shape the team called "not an issue": this series and kind, at these
    weekday-hours, alerts only past a raised score until someone forgets it."""

    __tablename__ = "anomaly_shapes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(64))
    dim_value: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    slots: Mapped[list[list[int]]] = mapped_column(JSONType)  # [[weekday, hour], ...], UTC
    min_score: Mapped[float] = mapped_column(Float)  # |score| needed to alert in those slots
    incident_id: Mapped[int] = mapped_column(Integer, unique=True)  # one shape per dismissal
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    forgotten_by: Mapped[str | None] = mapped_column(String(32))
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


SeriesKey = tuple[str, str, str]


def _series_of(model: Any, series: SeriesKey) -> ColumnElement[bool]:
    signal_type, dimension, dim_value = series
    return and_(model.signal_type == signal_type, model.dimension == dimension, model.dim_value == dim_value)


def open_incidents(session: Session) -> dict[tuple[str, str, str, str], Incident]:
    """The open incidents by series and kind (the latest, should a series have two)."""
    rows = session.scalars(
        select(Incident).where(Incident.state == "open").order_by(Incident.last_hour, Incident.id)
    )
    return {(i.signal_type, i.dimension, i.dim_value, i.kind): i for i in rows}


def snoozed_series(session: Session, now: datetime) -> set[tuple[str, str, str, str]]:
    rows = session.execute(
        select(Incident.signal_type, Incident.dimension, Incident.dim_value, Incident.kind)
        .where(Incident.snoozed_until > now)
        .distinct()
    )
    return {(t, d, v, k) for t, d, v, k in rows}


def posted_between(session: Session, start: datetime, end: datetime) -> dict[SeriesKey, int]:
    """Incidents posted per series that opened in [start, end): what the day's budget spent."""
    rows = session.execute(
        select(Incident.signal_type, Incident.dimension, Incident.dim_value, func.count())
        .where(Incident.start >= start, Incident.start < end, Incident.delivery.in_(["alert", "expected"]))
        .group_by(Incident.signal_type, Incident.dimension, Incident.dim_value)
    )
    return {(t, d, v): int(n) for t, d, v, n in rows}


def stale_open_incidents(session: Session, quiet_since: datetime) -> list[Incident]:
    """Open incidents whose last anomalous hour is at or before ``quiet_since``."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.state == "open", Incident.last_hour <= quiet_since)
            .order_by(Incident.id)
        )
    )


def close_incident(session: Session, incident_id: int, at: datetime) -> bool:
    stmt = (
        update(Incident)
        .where(Incident.id == incident_id, Incident.state == "open")
        .values(state="closed", closed_at=at)
        .returning(Incident.id)
    )
    return session.execute(stmt).first() is not None


def earlier_incidents(session: Session, series: SeriesKey, kind: str, before: datetime) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(_series_of(Incident, series), Incident.kind == kind, Incident.start < before)
            .order_by(Incident.start.desc())
            .limit(200)
        )
    )


def mark_incident_posted(session: Session, incident_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.message_ts.is_(None))
        .values(message_ts=ts, channel=channel)
    )


def set_incident_chart(session: Session, incident_id: int, file_id: str) -> None:
    session.execute(update(Incident).where(Incident.id == incident_id).values(chart_file_id=file_id))


def mark_closed_reply(session: Session, incident_id: int, ts: str) -> None:
    session.execute(update(Incident).where(Incident.id == incident_id).values(closed_reply_ts=ts))


def incidents_for_day(session: Session, day_id: int) -> list[Incident]:
    return list(
        session.scalars(select(Incident).where(Incident.alert_day_id == day_id).order_by(Incident.id))
    )


# --- the alert budget ------------------------------------------------------------------------
def alert_day(session: Session, series: SeriesKey, day: date) -> AlertDay:
    signal_type, dimension, dim_value = series
    insert_ignore(
        session,
        AlertDay.__table__,  # type: ignore[arg-type]
        {
            "signal_type": signal_type,
            "dimension": dimension,
            "dim_value": dim_value,
            "day": day,
            "posted": 0,
            "overflow": 0,
        },
        ["signal_type", "dimension", "dim_value", "day"],
    )
    return session.scalars(select(AlertDay).where(_series_of(AlertDay, series), AlertDay.day == day)).one()


def record_overflow(session: Session, day_id: int, posted: int) -> int:
    """One more incident over the day's budget; returns how many are over it now."""
    session.execute(
        update(AlertDay).where(AlertDay.id == day_id).values(overflow=AlertDay.overflow + 1, posted=posted)
    )
    return int(session.scalar(select(AlertDay.overflow).where(AlertDay.id == day_id)) or 0)


def mark_summary_posted(session: Session, day_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(AlertDay)
        .where(AlertDay.id == day_id, AlertDay.message_ts.is_(None))
        .values(message_ts=ts, channel=channel)
    )


# --- shapes the team dismissed ---------------------------------------------------------------
def insert_shape(session: Session, values: dict[str, Any]) -> bool:
    return insert_ignore(session, Shape.__table__, values, ["incident_id"])  # type: ignore[arg-type]


def shape_of_incident(session: Session, incident_id: int) -> Shape | None:
    return session.scalars(select(Shape).where(Shape.incident_id == incident_id)).first()


def active_shapes(session: Session) -> list[Shape]:
    return list(session.scalars(select(Shape).where(Shape.forgotten_at.is_(None)).order_by(Shape.id)))


def all_shapes(session: Session) -> list[Shape]:
    return list(session.scalars(select(Shape).order_by(Shape.id)))


def forget_shape(session: Session, shape_id: int, user: str, at: datetime) -> bool:
    stmt = (
        update(Shape)
        .where(Shape.id == shape_id, Shape.forgotten_at.is_(None))
        .values(forgotten_by=user, forgotten_at=at)
        .returning(Shape.id)
    )
    return session.execute(stmt).first() is not None


def incidents_of_shape(session: Session, shape_id: int) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.shape_id == shape_id)))


def _hours_of(incident: Incident) -> ColumnElement[bool]:
    return and_(
        _series_of(Anomaly, (incident.signal_type, incident.dimension, incident.dim_value)),
        Anomaly.kind == incident.kind,
        Anomaly.bucket >= incident.start,
        Anomaly.bucket <= incident.last_hour,
    )


def mirror_to_hours(session: Session, incident: Incident, values: dict[str, Any], only_unset: str) -> None:
    """Copies the incident's message or feedback to its hourly anomalies (the digest and the
    investigations read those), except where ``only_unset`` is set already."""
    column = getattr(Anomaly, only_unset)
    session.execute(update(Anomaly).where(_hours_of(incident), column.is_(None)).values(**values))


def answer_incident(
    session: Session, incident_id: int, values: dict[str, Any], over: tuple[str, ...]
) -> bool:
    """One conditional UPDATE: the answer wins only over no answer or one of ``over``, so a
    double click (or two people at once) finds it answered."""
    stmt = update(Incident).where(
        Incident.id == incident_id, or_(Incident.feedback.is_(None), Incident.feedback.in_(over))
    )
    return session.execute(stmt.values(**values).returning(Incident.id)).first() is not None


def claim_closed_reply(session: Session, incident_id: int, worker: str) -> bool:
    """Whoever sets the marker first sends the closing reply (at most once, even if two jobs
    for the incident run at the same time)."""
    stmt = (
        update(Incident)
        .where(Incident.id == incident_id, Incident.closed_reply_ts.is_(None))
        .values(closed_reply_ts=f"sending:{worker}"[:32])
        .returning(Incident.id)
    )
    return session.execute(stmt).first() is not None

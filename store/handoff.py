"""Hand-offs to Engineering: one row per requirement sent, its Jira ticket (or the channel
post that stood in for one), and every query the hand-off workflow asks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime
from store.enforcement import MANUAL, EnforcementAction, EnforcementRequest

# Statuses: queued (not delivered yet, retrying), ticketed (a Jira issue exists), posted
# (no Jira configured: posted in the engineering channel).
QUEUED, TICKETED, POSTED = "queued", "ticketed", "posted"


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_subject", "subject_type", "subject_ref"),
        Index("ix_handoffs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # vigil-handoff-<uuid>: stored before the first call and sent as a Jira label, so a retry
    # finds the issue an earlier attempt created instead of creating a second.
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    subject_type: Mapped[str] = mapped_column(
        String(16)
    )  # case, investigation, anomaly, pattern, coverage, enforcement
    subject_ref: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    problem: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text)
    mitigation: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(4))
    requested_by: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    ticket_key: Mapped[str | None] = mapped_column(String(32), index=True)
    ticket_url: Mapped[str | None] = mapped_column(String(300))
    ticket_status: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    told_failure: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str | None] = mapped_column(String(32))  # the thread told about the ticket
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"HO-{self.id}"


def add(session: Session, values: dict[str, Any]) -> Handoff:
    row = Handoff(**values)
    session.add(row)
    session.flush()
    return row


def get(session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


def by_ticket(session: Session, key: str) -> Handoff | None:
    return session.scalars(select(Handoff).where(Handoff.ticket_key == key)).first()


def of_subject(session: Session, subject_type: str, subject_ref: str) -> list[Handoff]:
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.subject_type == subject_type, Handoff.subject_ref == subject_ref)
            .order_by(Handoff.id)
        )
    )


def by_subject_ref(session: Session, subject_ref: str) -> list[Handoff]:
    return list(
        session.scalars(select(Handoff).where(Handoff.subject_ref == subject_ref).order_by(Handoff.id))
    )


def open_tickets(session: Session) -> list[Handoff]:
    """Ticketed hand-offs whose issue is not done yet (what the poll asks Jira about)."""
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.status == TICKETED, Handoff.ticket_status.is_distinct_from("Done"))
            .order_by(Handoff.id)
        )
    )


def open_by_age(session: Session) -> list[Handoff]:
    """Every hand-off not done, oldest first (the digest lists them by age)."""
    return list(
        session.scalars(
            select(Handoff).where(Handoff.ticket_status.is_distinct_from("Done")).order_by(Handoff.created_at)
        )
    )


def record(session: Session, handoff_id: int, **values: Any) -> None:
    session.execute(update(Handoff).where(Handoff.id == handoff_id).values(**values))


def set_status_if_changed(session: Session, handoff_id: int, status: str, now: datetime) -> bool:
    """One conditional UPDATE: True only for the caller that saw the change (a poll and a
    webhook racing tell the thread once)."""
    done = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.ticket_status.is_distinct_from(status))
        .values(ticket_status=status, updated_at=now)
        .returning(Handoff.id)
    ).first()
    return done is not None


def manual_executions(session: Session, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(approved at, executed at) of every action an engineer executed by hand in [start, end)."""
    rows = session.execute(
        select(EnforcementRequest.decided_at, EnforcementAction.finished_at)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(
            EnforcementAction.executed_by.is_not(None),
            EnforcementAction.finished_at >= start,
            EnforcementAction.finished_at < end,
        )
    )
    return [(approved or done, done) for approved, done in rows if done is not None]


def manual_waiting(session: Session) -> list[datetime]:
    """When each action still waiting for manual execution was approved."""
    rows = session.execute(
        select(EnforcementRequest.decided_at, EnforcementAction.created_at)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementAction.status == MANUAL)
    )
    return [approved or created for approved, created in rows]


class ReviewPage(Base):
    """The weekly review as published to Confluence: one page per ISO week, updated in place."""

    __tablename__ = "review_pages"

    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-W47
    page_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def save_page(session: Session, week: str, page_id: str, url: str, version: int, now: datetime) -> None:
    row = session.get(ReviewPage, week)
    if row is None:
        session.add(ReviewPage(week=week, page_id=page_id, url=url, version=version, updated_at=now))
    else:
        row.page_id, row.url, row.version, row.updated_at = page_id, url, version, now


def page_of(session: Session, week: str) -> ReviewPage | None:
    return session.get(ReviewPage, week)

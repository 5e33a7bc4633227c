"""Notice outcomes (DSA Art. 16(5)): a reporter told what became of their report, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, insert_ignore
from store.enforcement import (
    EXECUTED,
    OPEN_ACTION,
    EnforcementAction,
    EnforcementRequest,
)
from store.signals import Report

# Notice outcomes (DSA Art. 16(5)): a reporter told what became of their report, once.
QUEUED, TOLD, NOT_TOLD = "queued", "told", "not_told"


class NoticeOutcomeRow(Base):
    """What a reporter is (or could not be) told about their report. One row per report, ever:
    the unique ``report_id`` is what makes a retried job, a second resolve or a reopened case
    harmless."""

    __tablename__ = "notice_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(128))  # the report's id at the platform
    reporter: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # actioned | not_actioned
    reason: Mapped[str] = mapped_column(Text)
    puid: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # queued | told | not_told
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def reports_to_tell(session: Session, case_id: int, account_ids: Sequence[str] | None = None) -> list[Report]:
    """Reports routed to the case, filed by someone (a ``reporter``), not yet given an outcome."""
    given = select(NoticeOutcomeRow.id).where(NoticeOutcomeRow.report_id == Report.id).exists()
    query = select(Report).where(
        Report.case_id == case_id, Report.reporter.is_not(None), Report.reporter != "", ~given
    )
    if account_ids is not None:
        query = query.where(Report.account_id.in_(list(account_ids)))
    return list(session.scalars(query.order_by(Report.id)))


def add_notice_outcome(session: Session, values: dict[str, Any]) -> int | None:
    """The new row's id; None when the report already has one (someone else decided first)."""
    if not insert_ignore(session, NoticeOutcomeRow.__table__, values, ["report_id"]):  # type: ignore[arg-type]
        return None
    query = select(NoticeOutcomeRow.id).where(NoticeOutcomeRow.report_id == values["report_id"])
    return session.scalar(query)


def notice_outcome(session: Session, id_: int) -> NoticeOutcomeRow | None:
    return session.get(NoticeOutcomeRow, id_)


def notice_outcomes_of_case(session: Session, case_id: int) -> list[NoticeOutcomeRow]:
    return list(
        session.scalars(
            select(NoticeOutcomeRow).where(NoticeOutcomeRow.case_id == case_id).order_by(NoticeOutcomeRow.id)
        )
    )


def mark_notice(session: Session, id_: int, status: str, now: datetime, error: str | None = None) -> bool:
    """Settle a queued outcome; False when it was settled already (a job run twice)."""
    result = session.execute(
        update(NoticeOutcomeRow)
        .where(NoticeOutcomeRow.id == id_, NoticeOutcomeRow.status == QUEUED)
        .values(status=status, error=error, told_at=now if status == TOLD else None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def case_suspension(session: Session, case_ref: str, account_id: str) -> tuple[str, int] | None:
    """How a suspension of the account asked for from the case stands: ("executed", request id)
    when one was carried out, ("open", request id) while one is asked for or under way, or None."""
    rows = session.execute(
        select(EnforcementAction.status, EnforcementAction.request_id)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(
            EnforcementRequest.case_ref == case_ref,
            EnforcementAction.account_id == account_id,
            EnforcementAction.action == "suspend",
        )
        .order_by(EnforcementAction.id)
    ).all()
    for status, request_id in rows:
        if status in EXECUTED:
            return "executed", int(request_id)
    for status, request_id in rows:
        if status in OPEN_ACTION:
            return "open", int(request_id)
    return None


def notice_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Notices decided in [start, end) (their outcome written), by outcome, and how many of
    those could not be told."""
    rows = session.execute(
        select(NoticeOutcomeRow.outcome, NoticeOutcomeRow.status, func.count())
        .where(NoticeOutcomeRow.created_at >= start, NoticeOutcomeRow.created_at < end)
        .group_by(NoticeOutcomeRow.outcome, NoticeOutcomeRow.status)
    ).all()
    out = {"decided": 0, "actioned": 0, "not_actioned": 0, "not_told": 0}
    for outcome, status, n in rows:
        out["decided"] += int(n)
        out[outcome] = out.get(outcome, 0) + int(n)
        if status == NOT_TOLD:
            out["not_told"] += int(n)
    return out

"""Statements of reasons: one per executed restriction of one account, and every query about them.

A statement is drafted with its request, frozen when the request is approved and submitted to
the Transparency Database once its action has executed. ``puid`` is unique here as it is in the
database, so a statement can never be written, nor counted as submitted, twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore
from store.cases import Case
from store.enforcement import (
    EXECUTED,
    OPEN_ACTION,
    EnforcementAction,
    EnforcementApproval,
    EnforcementRequest,
)
from store.signals import Report

# Statuses: drafted (request pending), frozen (approved, waiting for the action and the
# submission), submitted, failed (kept and retried; ``error`` says why), withdrawn (the request
# was rejected or expired: no restriction, no statement).
DRAFTED, FROZEN, SUBMITTED, FAILED, WITHDRAWN = "drafted", "frozen", "submitted", "failed", "withdrawn"
BLOCKED = "blocked"  # personal data in the facts: waits for a person, never retried as is


class StatementRow(Base):
    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dsa_id: Mapped[str | None] = mapped_column(String(64))  # the database's uuid once submitted
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def add_statements(session: Session, rows: list[dict[str, Any]]) -> None:
    session.add_all(StatementRow(**row) for row in rows)
    session.flush()


def of_request(session: Session, request_id: int) -> list[StatementRow]:
    return list(
        session.scalars(
            select(StatementRow).where(StatementRow.request_id == request_id).order_by(StatementRow.id)
        )
    )


def of_account(session: Session, account_id: str) -> list[StatementRow]:
    return list(
        session.scalars(
            select(StatementRow).where(StatementRow.account_id == account_id).order_by(StatementRow.id.desc())
        )
    )


def by_puid(session: Session, puids: Sequence[str]) -> dict[str, StatementRow]:
    rows = session.scalars(select(StatementRow).where(StatementRow.puid.in_(list(puids))))
    return {row.puid: row for row in rows}


def set_status(session: Session, request_id: int, from_status: str, to_status: str, now: datetime) -> int:
    result = session.execute(
        update(StatementRow)
        .where(StatementRow.request_id == request_id, StatementRow.status == from_status)
        .values(status=to_status, updated_at=now, next_attempt_at=now if to_status == FROZEN else None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_for_submission(session: Session, now: datetime, limit: int) -> list[StatementRow]:
    """Frozen or failed statements whose action has executed and whose retry time has come."""
    query = (
        select(StatementRow)
        .join(
            EnforcementAction,
            and_(
                EnforcementAction.request_id == StatementRow.request_id,
                EnforcementAction.account_id == StatementRow.account_id,
            ),
        )
        .where(
            StatementRow.status.in_([FROZEN, FAILED]),
            EnforcementAction.status.in_(EXECUTED),
            or_(StatementRow.next_attempt_at.is_(None), StatementRow.next_attempt_at <= now),
        )
        .order_by(StatementRow.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def for_actions(session: Session, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], StatementRow]:
    """Statements of (request_id, account_id) pairs: what enforcement calls carry."""
    if not keys:
        return {}
    requests = {request_id for request_id, _ in keys}
    rows = session.scalars(
        select(StatementRow).where(
            StatementRow.request_id.in_(requests),
            StatementRow.account_id.in_([account for _, account in keys]),
        )
    )
    return {(row.request_id, row.account_id): row for row in rows}


def summary_of_request(session: Session, request_id: int) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The first statement's body (a request's statements share their text) and the count of
    its statements by status: what the approval card shows, in two small queries."""
    first = session.scalars(
        select(StatementRow.body)
        .where(StatementRow.request_id == request_id)
        .order_by(StatementRow.id)
        .limit(1)
    ).first()
    counts = session.execute(
        select(StatementRow.status, func.count())
        .where(StatementRow.request_id == request_id)
        .group_by(StatementRow.status)
    ).all()
    return (dict(first) if first is not None else None), {status: int(n) for status, n in counts}


# Appeal outcomes.
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


# --- transparency figures: counted by the database --------------------------------------------------
STATEMENT_FIELDS = ("category", "decision_ground", "source_type", "automated_detection", "automated_decision")


def restrictions_by(
    session: Session, field: str, start: datetime, end: datetime
) -> list[tuple[str | None, int]]:
    """Executed suspensions in [start, end) counted by one field of their statement (None: no
    statement, e.g. before the dsa: section was configured)."""
    value = StatementRow.body[field].as_string() if field in STATEMENT_FIELDS else StatementRow.body[field]
    query = (
        select(value, func.count())
        .select_from(EnforcementAction)
        .outerjoin(
            StatementRow,
            and_(
                StatementRow.request_id == EnforcementAction.request_id,
                StatementRow.account_id == EnforcementAction.account_id,
            ),
        )
        .where(
            EnforcementAction.action == "suspend",
            EnforcementAction.status.in_(EXECUTED),
            EnforcementAction.finished_at >= start,
            EnforcementAction.finished_at < end,
        )
        .group_by(value)
    )
    return [(key, int(n)) for key, n in session.execute(query).all()]


def appeal_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    def count(*where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(AppealRow).where(*where)) or 0)

    received = (AppealRow.received_at >= start, AppealRow.received_at < end)
    decided = (AppealRow.decided_at >= start, AppealRow.decided_at < end)
    return {
        "received": count(*received),
        "received_late": count(*received, AppealRow.late.is_(True)),
        "decided": count(*decided),
        "upheld": count(*decided, AppealRow.outcome == UPHELD),
        "overturned": count(*decided, AppealRow.outcome == OVERTURNED),
        "decided_past_deadline": count(*decided, AppealRow.decided_at > AppealRow.due_at),
    }


def appeal_decision_times(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(received, decided) of appeals decided in [start, end): their median is taken by the caller,
    since SQLite has no percentile function."""
    rows = session.execute(
        select(AppealRow.received_at, AppealRow.decided_at).where(
            AppealRow.decided_at >= start, AppealRow.decided_at < end
        )
    ).all()
    return [(r, d) for r, d in rows if d is not None]


def statement_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    submitted = session.scalar(
        select(func.count()).where(StatementRow.submitted_at >= start, StatementRow.submitted_at < end)
    )
    by_status = session.execute(
        select(StatementRow.status, func.count())
        .where(StatementRow.created_at >= start, StatementRow.created_at < end)
        .group_by(StatementRow.status)
    ).all()
    counts = {status: int(n) for status, n in by_status}
    return {
        "submitted": int(submitted or 0),
        "failed": counts.get(FAILED, 0),
        "blocked": counts.get(BLOCKED, 0),
        "awaiting_submission": counts.get(FROZEN, 0),
    }


def open_appeals_past_deadline(session: Session, at: datetime) -> int:
    """Appeals still undecided at ``at`` whose deadline had passed by then."""
    return int(
        session.scalar(
            select(func.count()).where(
                AppealRow.received_at < at,
                AppealRow.due_at < at,
                or_(AppealRow.decided_at.is_(None), AppealRow.decided_at >= at),
            )
        )
        or 0
    )


# --- QA sampling: blind re-reviews of decisions ----------------------------------------------------
class QaReview(Base):
    """One sampled decision (a resolved case or an executed action) and its blind re-review."""

    __tablename__ = "qa_reviews"
    __table_args__ = (UniqueConstraint("kind", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # case | action
    item_id: Mapped[int] = mapped_column(Integer)
    item_ref: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32), index=True)  # case category or reason code
    outcome: Mapped[str] = mapped_column(String(16))  # the original decision, hidden until answered
    decider: Mapped[str] = mapped_column(String(32))
    reviewer: Mapped[str | None] = mapped_column(String(32), index=True)  # None: nobody eligible was free
    sampled_on: Mapped[date] = mapped_column(Date, index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_outcome: Mapped[str | None] = mapped_column(String(16))
    answer_category: Mapped[str | None] = mapped_column(String(32))
    would_action: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


def resolved_cases(session: Session, start: datetime, end: datetime) -> list[tuple[int, str, str, str]]:
    """(id, category, outcome, resolved_by) of cases resolved in [start, end)."""
    rows = session.execute(
        select(Case.id, Case.category, Case.outcome, Case.resolved_by).where(
            Case.resolved_at >= start, Case.resolved_at < end, Case.resolved_by.is_not(None)
        )
    ).all()
    return [(i, c, o or "", r) for i, c, o, r in rows if r]


def executed_actions(
    session: Session, start: datetime, end: datetime
) -> list[tuple[int, str, str, str, list[str]]]:
    """(action id, ref, reason code, deciding approver, everyone who asked or approved) of
    enforcement actions executed in [start, end)."""
    rows = session.execute(
        select(
            EnforcementAction.id,
            EnforcementAction.request_id,
            EnforcementAction.account_id,
            EnforcementRequest.reason_code,
            EnforcementRequest.decided_by,
            EnforcementRequest.requester,
        )
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(
            EnforcementAction.status.in_(EXECUTED),
            EnforcementAction.finished_at >= start,
            EnforcementAction.finished_at < end,
        )
    ).all()
    approvers: dict[int, list[str]] = {}
    request_ids = {r[1] for r in rows}
    if request_ids:
        for rid, who in session.execute(
            select(EnforcementApproval.request_id, EnforcementApproval.approver).where(
                EnforcementApproval.request_id.in_(request_ids)
            )
        ):
            approvers.setdefault(rid, []).append(who)
    return [
        (aid, f"REQ-{rid}:{account}", reason, decided_by or requester, [requester, *approvers.get(rid, [])])
        for aid, rid, account, reason, decided_by, requester in rows
    ]


def qa_sampled_on(session: Session, day: date) -> list[QaReview]:
    return list(session.scalars(select(QaReview).where(QaReview.sampled_on == day).order_by(QaReview.id)))


def qa_already(session: Session, kind: str, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        session.scalars(select(QaReview.item_id).where(QaReview.kind == kind, QaReview.item_id.in_(ids)))
    )


QA_KEYS = {"category": QaReview.category, "reviewer": QaReview.reviewer, "decider": QaReview.decider}


def qa_agreement(session: Session, start: datetime, end: datetime, by: str) -> list[tuple[str, int, int]]:
    """(category, reviewer or decider, answered, agreed on the outcome) of re-reviews answered in
    [start, end)."""
    key = QA_KEYS[by]
    agreed = func.sum(case((QaReview.answer_outcome == QaReview.outcome, 1), else_=0))
    rows = session.execute(
        select(key, func.count(), agreed)
        .where(QaReview.answered_at >= start, QaReview.answered_at < end)
        .group_by(key)
        .order_by(key)
    ).all()
    return [(str(k), int(n), int(a or 0)) for k, n, a in rows]


def statements_between(session: Session, start: datetime, end: datetime) -> list[StatementRow]:
    """Statements frozen (approved) or beyond, drafted in [start, end): what an export carries."""
    return list(
        session.scalars(
            select(StatementRow)
            .where(
                StatementRow.created_at >= start,
                StatementRow.created_at < end,
                StatementRow.status.not_in([DRAFTED, WITHDRAWN]),
            )
            .order_by(StatementRow.id)
        )
    )


def case_has_reports(session: Session, case_id: int) -> bool:
    """Whether a user's abuse report (a ``report`` signal) was routed to the case."""
    return session.scalar(select(Report.id).where(Report.case_id == case_id).limit(1)) is not None


def qa_pending_for(session: Session, reviewer: str, limit: int) -> list[QaReview]:
    return list(
        session.scalars(
            select(QaReview)
            .where(QaReview.reviewer == reviewer, QaReview.answered_at.is_(None))
            .order_by(QaReview.id)
            .limit(limit)
        )
    )


# --- QA in the weekly review ----------------------------------------------------------------------------
def _answered_in(start: datetime, end: datetime) -> tuple[Any, ...]:
    return (QaReview.answered_at >= start, QaReview.answered_at < end)


def qa_lines(session: Session, start: datetime, end: datetime, by: str) -> list[tuple[str, int, int, int]]:
    """(key, answered, agreed on the outcome, agreed on the category) of re-reviews answered in
    [start, end), per category or per decider (whose decisions were re-reviewed)."""
    key = QA_KEYS[by]
    same_outcome = func.sum(case((QaReview.answer_outcome == QaReview.outcome, 1), else_=0))
    same_category = func.sum(case((QaReview.answer_category == QaReview.category, 1), else_=0))
    rows = session.execute(
        select(key, func.count(), same_outcome, same_category)
        .where(*_answered_in(start, end))
        .group_by(key)
        .order_by(func.count().desc(), key)
    ).all()
    return [(str(k), int(n), int(o or 0), int(c or 0)) for k, n, o, c in rows]


def qa_counts(
    session: Session, first_day: date, last_day: date, start: datetime, end: datetime
) -> tuple[int, int]:
    """(sampled on the days first_day..last_day, answered in [start, end))."""
    sampled = session.scalar(
        select(func.count()).where(QaReview.sampled_on >= first_day, QaReview.sampled_on <= last_day)
    )
    answered = session.scalar(select(func.count()).where(*_answered_in(start, end)))
    return int(sampled or 0), int(answered or 0)


def qa_disagreements(session: Session, start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    """Re-reviews answered in [start, end) whose outcome or category differs from the original,
    oldest answer first, with the links the store has: the case's permalink (for an action, the
    permalink of the case its request came from) and the request's approval card."""
    differs = or_(QaReview.answer_outcome != QaReview.outcome, QaReview.answer_category != QaReview.category)
    linked = Case.__table__.alias("linked_case")
    rows = session.execute(
        select(
            QaReview.id,
            QaReview.kind,
            QaReview.item_ref,
            QaReview.category,
            QaReview.outcome,
            QaReview.answer_category,
            QaReview.answer_outcome,
            QaReview.note,
            Case.permalink,
            EnforcementRequest.case_ref,
            linked.c.permalink,
            EnforcementRequest.card_channel,
            EnforcementRequest.card_ts,
        )
        .outerjoin(Case, and_(QaReview.kind == "case", Case.id == QaReview.item_id))
        .outerjoin(
            EnforcementAction, and_(QaReview.kind == "action", EnforcementAction.id == QaReview.item_id)
        )
        .outerjoin(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .outerjoin(linked, literal("CASE-") + cast(linked.c.id, String) == EnforcementRequest.case_ref)
        .where(*_answered_in(start, end), differs)
        .order_by(QaReview.answered_at, QaReview.id)
        .limit(limit)
    ).all()
    return [
        {
            "id": r[0],
            "kind": r[1],
            "ref": r[2],
            "category": r[3],
            "outcome": r[4],
            "answer_category": r[5] or "",
            "answer_outcome": r[6] or "",
            "note": r[7] or "",
            "case_link": r[8] if r[1] == "case" else r[10],
            "case_ref": r[9],
            "card": (r[11], r[12]) if r[11] and r[12] else None,
        }
        for r in rows
    ]


def qa_disagreement_count(session: Session, start: datetime, end: datetime) -> int:
    differs = or_(QaReview.answer_outcome != QaReview.outcome, QaReview.answer_category != QaReview.category)
    return int(session.scalar(select(func.count()).where(*_answered_in(start, end), differs)) or 0)


def qa_calibration(
    session: Session, start: datetime, end: datetime, limit: int
) -> list[tuple[str, str, str, str, int, int]]:
    """The pairs re-reviewers and deciders split on most, for re-reviews answered in [start, end):
    (kind, scope, a, b, disagreed, of) where kind is ``category`` (scope empty; a and b two
    categories, either way round; ``of`` the re-reviews of items in either) or ``outcome`` (scope
    the item's category; a and b two outcomes; ``of`` the re-reviews of that category). Ranked by
    disagreements, then by their share."""
    answered = _answered_in(start, end)
    low = case(
        (QaReview.category < QaReview.answer_category, QaReview.category), else_=QaReview.answer_category
    )
    high = case(
        (QaReview.category < QaReview.answer_category, QaReview.answer_category), else_=QaReview.category
    )
    pairs = (
        select(low.label("a"), high.label("b"), func.count().label("n"))
        .where(*answered, QaReview.answer_category != QaReview.category)
        .group_by(low, high)
        .subquery()
    )
    inner = QaReview.__table__.alias("qa_of")
    of = (
        select(func.count())
        .where(
            inner.c.answered_at >= start,
            inner.c.answered_at < end,
            inner.c.category.in_([pairs.c.a, pairs.c.b]),
        )
        .scalar_subquery()
    )
    by_category = session.execute(select(pairs.c.a, pairs.c.b, pairs.c.n, of)).all()
    o_low = case(
        (QaReview.outcome < QaReview.answer_outcome, QaReview.outcome), else_=QaReview.answer_outcome
    )
    o_high = case(
        (QaReview.outcome < QaReview.answer_outcome, QaReview.answer_outcome), else_=QaReview.outcome
    )
    outcome_pairs = (
        select(QaReview.category.label("scope"), o_low.label("a"), o_high.label("b"), func.count().label("n"))
        .where(*answered, QaReview.answer_outcome != QaReview.outcome)
        .group_by(QaReview.category, o_low, o_high)
        .subquery()
    )
    of_scope = (
        select(func.count())
        .where(
            inner.c.answered_at >= start,
            inner.c.answered_at < end,
            inner.c.category == outcome_pairs.c.scope,
        )
        .scalar_subquery()
    )
    by_outcome = session.execute(
        select(outcome_pairs.c.scope, outcome_pairs.c.a, outcome_pairs.c.b, outcome_pairs.c.n, of_scope)
    ).all()
    topics = [("category", "", str(a), str(b), int(n), int(o)) for a, b, n, o in by_category] + [
        ("outcome", str(scope), str(a), str(b), int(n), int(o)) for scope, a, b, n, o in by_outcome
    ]
    topics.sort(key=lambda t: (-t[4], -(t[4] / t[5] if t[5] else 0), t[0], t[1], t[2], t[3]))
    return topics[:limit]


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

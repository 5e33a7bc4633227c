"""QA re-reviews of decisions: the sample, the blind answers and the weekly figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
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
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime
from store.cases import Case
from store.enforcement import (
    EXECUTED,
    EnforcementAction,
    EnforcementApproval,
    EnforcementRequest,
)


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

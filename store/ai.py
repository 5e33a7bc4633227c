"""The AI gateway's ledger: one row per call to a language model (``ai_calls``), and the
triage suggestions made for new cases (``ai_suggestions``), with every query about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, insert_ignore
from store.cases import Case


class AiCall(Base):
    __tablename__ = "ai_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    task: Mapped[str] = mapped_column(String(32))
    template_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(100))
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    # ok, malformed, timeout, rate_limited, server_error, budget_exhausted, error
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(64))  # CASE-n, INV-n, a week


class AiSuggestion(Base):
    """The triage suggestion for a new case (one per case), beside the playbook's decision."""

    __tablename__ = "ai_suggestions"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(16))  # ai, offline
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text)
    fallback: Mapped[str | None] = mapped_column(String(32))  # why the offline path answered
    # Recorded when the case is resolved: what the analyst left, against what was suggested.
    final_category: Mapped[str | None] = mapped_column(String(32))
    final_priority: Mapped[str | None] = mapped_column(String(2))
    category_kept: Mapped[bool | None] = mapped_column()
    priority_kept: Mapped[bool | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


def add_call(session: Session, **values: object) -> None:
    session.add(AiCall(**values))


def tokens_since(session: Session, since: datetime) -> int:
    used = session.scalar(
        select(func.coalesce(func.sum(AiCall.tokens_in + AiCall.tokens_out), 0)).where(AiCall.at >= since)
    )
    return int(used or 0)


def recent_calls(session: Session, limit: int, since: datetime | None = None) -> list[AiCall]:
    stmt = select(AiCall).order_by(AiCall.at.desc(), AiCall.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(AiCall.at >= since)
    return list(session.scalars(stmt))


def call_totals(session: Session, since: datetime) -> list[tuple[str, str, int, int, int]]:
    """(task, outcome, calls, tokens in, tokens out) since ``since``."""
    rows = session.execute(
        select(
            AiCall.task,
            AiCall.outcome,
            func.count(),
            func.coalesce(func.sum(AiCall.tokens_in), 0),
            func.coalesce(func.sum(AiCall.tokens_out), 0),
        )
        .where(AiCall.at >= since)
        .group_by(AiCall.task, AiCall.outcome)
        .order_by(AiCall.task, AiCall.outcome)
    )
    return [(t, o, int(n), int(i), int(u)) for t, o, n, i, u in rows]


def add_suggestion_once(session: Session, values: dict[str, object]) -> bool:
    return insert_ignore(session, AiSuggestion.__table__, values, ["case_id"])  # type: ignore[arg-type]


def suggestion_for(session: Session, case_id: int) -> AiSuggestion | None:
    return session.get(AiSuggestion, case_id)


def record_outcome(session: Session, case_id: int, category: str, priority: str, at: datetime) -> bool:
    """Record what the analyst left on a resolved case against its suggestion (first
    resolution only); False when the case had no suggestion or it is recorded already."""
    stmt = (
        update(AiSuggestion)
        .where(AiSuggestion.case_id == case_id, AiSuggestion.resolved_at.is_(None))
        .values(
            final_category=category,
            final_priority=priority,
            category_kept=AiSuggestion.category == category,
            priority_kept=AiSuggestion.priority == priority,
            resolved_at=at,
        )
        .returning(AiSuggestion.case_id)
    )
    return session.execute(stmt).first() is not None


def outcomes_between(session: Session, since: datetime, until: datetime) -> list[AiSuggestion]:
    """Suggestions whose case was resolved in [since, until), with what the analyst kept."""
    return list(
        session.scalars(
            select(AiSuggestion)
            .where(AiSuggestion.resolved_at >= since, AiSuggestion.resolved_at < until)
            .order_by(AiSuggestion.case_id)
        )
    )


def past_case_texts(session: Session, limit: int, before_id: int) -> list[tuple[str, str, str]]:
    """(text, category, priority) of the most recent resolved cases before ``before_id``: what
    the offline nearest-category model learns from."""
    rows = session.execute(
        select(Case.text, Case.category, Case.priority)
        .where(Case.id < before_id, Case.status == "resolved")
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return [(t, c, p) for t, c, p in rows]

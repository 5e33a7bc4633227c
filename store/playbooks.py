"""Rule hits (every time a playbook rule matched a subject, live or in shadow), and every
query the playbooks capability asks.

Some of those queries read other concepts' tables (the account features rules see count
cases, enforcement actions, signals and reports; a backtest replays cases): they live here,
beside the hits, because only playbooks ask them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, and_, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime
from store.cases import Case, CaseAccount, CaseEvent
from store.enforcement import EXECUTED, EnforcementAction, EnforcementEvent
from store.signals import Report, Signal


class RuleHit(Base):
    __tablename__ = "rule_hits"
    __table_args__ = (
        Index("ix_rule_hits_rule_at", "rule_id", "at"),
        Index("ix_rule_hits_subject", "subject_type", "subject_id"),
        Index("ix_rule_hits_account_at", "account_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    playbook_version: Mapped[str] = mapped_column(String(16))  # content hash of the rule's file
    trigger: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))  # the subject's account, if it has one
    mode: Mapped[str] = mapped_column(String(8))  # live, shadow
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    why: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- hits ----------------------------------------
def add_hit(
    session: Session,
    *,
    rule_id: str,
    playbook_version: str,
    trigger: str,
    subject_type: str,
    subject_id: str,
    account_id: str | None,
    mode: str,
    actions: list[dict[str, Any]],
    why: dict[str, Any],
    note: str | None,
    at: datetime,
) -> None:
    session.add(
        RuleHit(
            rule_id=rule_id,
            playbook_version=playbook_version,
            trigger=trigger,
            subject_type=subject_type,
            subject_id=subject_id,
            account_id=account_id,
            mode=mode,
            actions=actions,
            why=why,
            note=note,
            at=at,
        )
    )


def hits_for(session: Session, subject_type: str, subject_id: str) -> list[RuleHit]:
    return list(
        session.scalars(
            select(RuleHit)
            .where(RuleHit.subject_type == subject_type, RuleHit.subject_id == subject_id)
            .order_by(RuleHit.id)
        )
    )


def hit_counts(session: Session, since: datetime) -> dict[tuple[str, str], int]:
    """(rule id, mode) → hits since ``since``."""
    rows = session.execute(
        select(RuleHit.rule_id, RuleHit.mode, func.count())
        .where(RuleHit.at >= since)
        .group_by(RuleHit.rule_id, RuleHit.mode)
    )
    return {(rule, mode): count for rule, mode, count in rows}


def hits_for_account(session: Session, account_id: str, limit: int = 20) -> list[RuleHit]:
    return list(
        session.scalars(
            select(RuleHit).where(RuleHit.account_id == account_id).order_by(RuleHit.at.desc()).limit(limit)
        )
    )


def live_hits_since(session: Session, rule_id: str, since: datetime) -> int:
    """How often ``rule_id`` acted (live) since ``since``: the daily guardrail's count."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RuleHit)
            .where(RuleHit.rule_id == rule_id, RuleHit.mode == "live", RuleHit.at >= since)
        )
        or 0
    )


def live_hits_between(
    session: Session, trigger: str, since: datetime, before: datetime
) -> set[tuple[str, str]]:
    """(rule id, subject id) of every live hit of ``trigger`` in [since, before)."""
    rows = session.execute(
        select(RuleHit.rule_id, RuleHit.subject_id).where(
            RuleHit.trigger == trigger, RuleHit.mode == "live", RuleHit.at >= since, RuleHit.at < before
        )
    )
    return {(rule, subject) for rule, subject in rows}


# --- the subjects rules read ----------------------------------------
def case_by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def cases_opened_between(session: Session, since: datetime, until: datetime) -> list[Case]:
    """Cases created in [since, until], oldest first: what a backtest replays."""
    return list(
        session.scalars(
            select(Case).where(Case.created_at >= since, Case.created_at <= until).order_by(Case.id)
        )
    )


def created_event_data(session: Session, case_id: int) -> dict[str, Any] | None:
    """The data of the case's ``created`` event (what built-in triage said), if it has one."""
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "created")
    ).first()
    return None if event is None else (event.data or {})


def request_accounts(session: Session, request_id: int, limit: int = 50) -> list[str]:
    """The accounts of an enforcement request, in the order they were asked for."""
    return list(
        session.scalars(
            select(EnforcementAction.account_id)
            .where(EnforcementAction.request_id == request_id)
            .order_by(EnforcementAction.id)
            .limit(limit)
        )
    )


def add_request_event(
    session: Session, request_id: int, at: datetime, actor: str, kind: str, data: dict[str, Any]
) -> None:
    """An event on the request's own timeline (not the case's), in the caller's transaction."""
    session.add(
        EnforcementEvent(request_id=request_id, account_id=None, at=at, actor=actor, kind=kind, data=data)
    )


def batch_signals(
    session: Session, accounts: Collection[str], received_at: datetime | None, limit: int
) -> list[Signal]:
    """The newest ``limit`` signals of these accounts, of one batch when ``received_at`` is
    its stamp."""
    query = select(Signal).where(Signal.account_id.in_(accounts))
    if received_at is not None:
        query = query.where(Signal.received_at == received_at)
    return list(session.scalars(query.order_by(Signal.id.desc()).limit(limit)))


# --- account features ----------------------------------------
def _windowed_counts(
    session: Session, timestamp: Any, where: Any, prefix: str, now: datetime, windows: Mapping[str, timedelta]
) -> dict[str, int]:
    """One indexed query: ``{prefix}_{window}`` counts of rows before ``now``, per window."""
    oldest = now - max(windows.values())
    columns = [
        func.coalesce(func.sum(case((timestamp >= now - delta, 1), else_=0)), 0).label(name)
        for name, delta in windows.items()
    ]
    row = session.execute(select(*columns).where(and_(where, timestamp >= oldest, timestamp < now))).one()
    return {f"{prefix}_{name}": int(value) for name, value in zip(windows, row, strict=True)}


def case_counts(
    session: Session, account_id: str, now: datetime, windows: Mapping[str, timedelta]
) -> dict[str, int]:
    """``cases_{window}``: cases that mention the account, opened in each window before ``now``."""
    mentions = and_(CaseAccount.case_id == Case.id, CaseAccount.account_id == account_id)
    return _windowed_counts(session, Case.created_at, mentions, "cases", now, windows)


def _executed(account_id: str) -> Any:
    return and_(EnforcementAction.account_id == account_id, EnforcementAction.status.in_(EXECUTED))


def executed_action_counts(
    session: Session, account_id: str, now: datetime, windows: Mapping[str, timedelta]
) -> dict[str, int]:
    """``enforcement_actions_{window}``: actions carried out on the account, per window."""
    executed = _executed(account_id)
    return _windowed_counts(
        session, EnforcementAction.finished_at, executed, "enforcement_actions", now, windows
    )


def last_executed_action(session: Session, account_id: str, before: datetime) -> str | None:
    """The action (suspend, reinstate) last carried out on the account before ``before``."""
    return session.scalars(
        select(EnforcementAction.action)
        .where(_executed(account_id), EnforcementAction.finished_at < before)
        .order_by(EnforcementAction.finished_at.desc(), EnforcementAction.id.desc())
        .limit(1)
    ).first()


def signal_counts(
    session: Session, account_id: str, now: datetime, windows: Mapping[str, timedelta]
) -> dict[str, int]:
    """``signals_{window}``: signals about the account that occurred in each window."""
    return _windowed_counts(
        session, Signal.occurred_at, Signal.account_id == account_id, "signals", now, windows
    )


def report_counts(
    session: Session, account_id: str, now: datetime, windows: Mapping[str, timedelta]
) -> dict[str, int]:
    """``reports_{window}``: reports about the account that occurred in each window."""
    return _windowed_counts(
        session, Report.occurred_at, Report.account_id == account_id, "reports", now, windows
    )

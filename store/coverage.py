"""Coverage: one stored finding per confirmed abuse (account and abuse category) saying how it
was first found and how long after its first signal, and every query the derivation reads.

The derivation reads other concepts' tables (cases, investigations, the enforcement ledger,
rule hits, signals, reports): those reads live here, beside the findings, because only
coverage asks them. Findings are re-derived in place (same account and category) and keep
the candidates they were chosen from, so an auditor can see why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, UniqueConstraint, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from store.base import Base, JSONType, UTCDateTime
from store.cases import Case, CaseAccount
from store.enforcement import EXECUTED, EnforcementAction, EnforcementRequest
from store.investigations import Investigation
from store.patterns import Pattern, PatternMember
from store.playbooks import RuleHit
from store.signals import Report, Signal


class CoverageFinding(Base):
    __tablename__ = "coverage_findings"
    __table_args__ = (
        UniqueConstraint("account_id", "category", name="uq_coverage_findings_account_category"),
        Index("ix_coverage_findings_confirmed_at", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    confirmed_by: Mapped[str] = mapped_column(String(32))  # CASE-n, INV-n, REQ-n
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))  # rule, anomaly, model_signal, pattern, report, …
    source_ref: Mapped[str] = mapped_column(String(64))  # the rule id, rep-91, CASE-3, PAT-2, …
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_signal_ref: Mapped[str | None] = mapped_column(String(64))
    first_signal_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delay_seconds: Mapped[float] = mapped_column(Float)
    pattern_ref: Mapped[str | None] = mapped_column(String(32))
    rule_matched: Mapped[bool] = mapped_column(Boolean)  # any rule, live or shadow, before confirmation
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    derived_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Confirmation:
    account_id: str
    kind: str  # case, investigation, suspension
    ref: str
    at: datetime
    reason_code: str | None  # a suspension's reason code


@dataclass(frozen=True)
class Clue:
    """Something that pointed at an account: a detection candidate or a signal."""

    account_id: str
    kind: str
    ref: str
    at: datetime
    detail: str | None = None


# --- what was confirmed --------------------------------------------------------------------
def confirmations(session: Session, since: datetime, until: datetime) -> list[Confirmation]:
    """Confirmed abuse in [since, until): cases resolved ``actioned`` (per account they name),
    investigations closed ``abuse_confirmed``, executed suspensions that no executed
    reinstatement of the same account followed."""
    found: list[Confirmation] = []
    cases = session.execute(
        select(CaseAccount.account_id, Case.id, Case.resolved_at)
        .join(Case, Case.id == CaseAccount.case_id)
        .where(Case.outcome == "actioned", Case.resolved_at >= since, Case.resolved_at < until)
    )
    found += [Confirmation(acct, "case", f"CASE-{cid}", at, None) for acct, cid, at in cases]
    investigations = session.execute(
        select(Investigation.account_id, Investigation.id, Investigation.closed_at).where(
            Investigation.outcome == "abuse_confirmed",
            Investigation.closed_at >= since,
            Investigation.closed_at < until,
        )
    )
    found += [Confirmation(acct, "investigation", f"INV-{iid}", at, None) for acct, iid, at in investigations]
    later = aliased(EnforcementAction)
    reversed_ = exists().where(
        later.account_id == EnforcementAction.account_id,
        later.action == "reinstate",
        later.status.in_(EXECUTED),
        later.finished_at > EnforcementAction.finished_at,
    )
    suspensions = session.execute(
        select(
            EnforcementAction.account_id,
            EnforcementRequest.id,
            EnforcementAction.finished_at,
            EnforcementRequest.reason_code,
        )
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(
            EnforcementAction.action == "suspend",
            EnforcementAction.status.in_(EXECUTED),
            EnforcementAction.finished_at >= since,
            EnforcementAction.finished_at < until,
            ~reversed_,
        )
    )
    found += [Confirmation(acct, "suspension", f"REQ-{rid}", at, code) for acct, rid, at, code in suspensions]
    return found


# --- what pointed at those accounts ---------------------------------------------------------
def _chunks(accounts: Collection[str]) -> list[list[str]]:
    items = sorted(accounts)
    return [items[i : i + 2000] for i in range(0, len(items), 2000)]


def clues(
    session: Session, accounts: Collection[str], until: datetime, model_score_at_least: float
) -> list[Clue]:
    """Every detection candidate for ``accounts`` before ``until``: live rule hits, any rule hit
    (kind ``rule_any``, for "no rule matched at all"), investigations (from an anomaly or not),
    model scores at or over the threshold, reports, cases and abuse patterns."""
    out: list[Clue] = []
    for chunk in _chunks(accounts):
        hits = session.execute(
            select(RuleHit.account_id, RuleHit.rule_id, RuleHit.at, RuleHit.mode).where(
                RuleHit.account_id.in_(chunk), RuleHit.at < until
            )
        )
        for acct, rule, at, mode in hits:
            out.append(Clue(acct, "rule" if mode == "live" else "rule_any", rule, at, mode))
        invs = session.execute(
            select(
                Investigation.account_id, Investigation.id, Investigation.opened_at, Investigation.anomaly_id
            ).where(Investigation.account_id.in_(chunk), Investigation.opened_at < until)
        )
        for acct, iid, at, anomaly in invs:
            if anomaly is not None:
                out.append(Clue(acct, "anomaly", f"anomaly-{anomaly}", at, f"INV-{iid}"))
            else:
                out.append(Clue(acct, "investigation", f"INV-{iid}", at))
        scores = session.execute(
            select(Signal.account_id, Signal.id, Signal.occurred_at, Signal.value).where(
                Signal.account_id.in_(chunk),
                Signal.type == "model_score",
                Signal.value >= model_score_at_least,
                Signal.occurred_at < until,
            )
        )
        out += [
            Clue(acct, "model_signal", f"signal-{sid}", at, f"{value:g}") for acct, sid, at, value in scores
        ]
        reports = session.execute(
            select(Report.account_id, Report.id, Report.client_id, Report.received_at, Report.reason).where(
                Report.account_id.in_(chunk), Report.received_at < until
            )
        )
        out += [
            Clue(acct, "report", client or f"rep-{rid}", at, reason)
            for acct, rid, client, at, reason in reports
        ]
        cases = session.execute(
            select(CaseAccount.account_id, Case.id, Case.created_at, Case.category)
            .join(Case, Case.id == CaseAccount.case_id)
            .where(CaseAccount.account_id.in_(chunk), Case.created_at < until)
        )
        out += [Clue(acct, "case", f"CASE-{cid}", at, category) for acct, cid, at, category in cases]
        # A pattern found an account when the pattern was first detected with it in, or at the
        # account's item if that came later (the hourly run after it); "not abuse" ones never did.
        members = session.execute(
            select(PatternMember.account_id, Pattern.id, PatternMember.at, Pattern.detected_at, Pattern.kind)
            .join(Pattern, Pattern.id == PatternMember.pattern_id)
            .where(
                PatternMember.account_id.in_(chunk),
                Pattern.feedback.is_(None),
                Pattern.detected_at < until,
            )
        )
        for acct, pid, member_at, detected_at, kind in members:
            at = max(member_at, detected_at)
            if at < until:
                out.append(Clue(acct, "pattern", f"PAT-{pid}", at, kind))
    return out


def first_signal(session: Session, account_id: str, since: datetime, until: datetime) -> Clue | None:
    """The account's earliest signal (any type) or report occurrence in [since, until]."""
    signal = session.execute(
        select(Signal.id, Signal.type, Signal.occurred_at)
        .where(Signal.account_id == account_id, Signal.occurred_at >= since, Signal.occurred_at <= until)
        .order_by(Signal.occurred_at, Signal.id)
        .limit(1)
    ).first()
    report = session.execute(
        select(Report.id, Report.client_id, Report.occurred_at)
        .where(Report.account_id == account_id, Report.occurred_at >= since, Report.occurred_at <= until)
        .order_by(Report.occurred_at, Report.id)
        .limit(1)
    ).first()
    found: list[Clue] = []
    if signal is not None:
        found.append(Clue(account_id, "signal", f"signal-{signal.id}", signal.occurred_at, signal.type))
    if report is not None:
        found.append(Clue(account_id, "report", report.client_id or f"rep-{report.id}", report.occurred_at))
    return min(found, key=lambda clue: clue.at) if found else None


# --- findings ---------------------------------------------------------------------------------
def save_finding(session: Session, values: dict[str, Any]) -> None:
    """Insert the finding, or re-derive it in place (same account and category)."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(CoverageFinding.__table__).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k not in ("account_id", "category")}
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id", "category"], set_=changed))


def findings_between(session: Session, since: datetime, until: datetime) -> list[CoverageFinding]:
    return list(
        session.scalars(
            select(CoverageFinding)
            .where(CoverageFinding.confirmed_at >= since, CoverageFinding.confirmed_at < until)
            .order_by(CoverageFinding.confirmed_at, CoverageFinding.id)
        )
    )


def findings_of(session: Session, account_id: str) -> list[CoverageFinding]:
    return list(
        session.scalars(
            select(CoverageFinding)
            .where(CoverageFinding.account_id == account_id)
            .order_by(CoverageFinding.id)
        )
    )


# --- for comparing playbook folders -----------------------------------------------------------
def accounts_of_cases(session: Session, case_ids: Collection[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for chunk in _chunks([str(i) for i in case_ids]):
        rows = session.execute(
            select(CaseAccount.case_id, CaseAccount.account_id)
            .where(CaseAccount.case_id.in_([int(i) for i in chunk]))
            .order_by(CaseAccount.account_id)
        )
        for case_id, account in rows:
            found.setdefault(case_id, []).append(account)
    return found


def outcomes_of_cases(session: Session, case_ids: Collection[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for chunk in _chunks([str(i) for i in case_ids]):
        rows = session.execute(select(Case.id, Case.outcome).where(Case.id.in_([int(i) for i in chunk])))
        found.update({case_id: outcome for case_id, outcome in rows})
    return found


def cleared_accounts(session: Session, accounts: Collection[str]) -> set[str]:
    """Accounts an investigation found to be legitimate outliers."""
    cleared: set[str] = set()
    for chunk in _chunks(accounts):
        cleared.update(
            session.scalars(
                select(Investigation.account_id).where(
                    Investigation.account_id.in_(chunk), Investigation.outcome == "legitimate_outlier"
                )
            )
        )
    return cleared


def reversed_accounts(session: Session, accounts: Collection[str]) -> set[str]:
    """Accounts with an executed suspension that an executed reinstatement followed."""
    later = aliased(EnforcementAction)
    found: set[str] = set()
    for chunk in _chunks(accounts):
        found.update(
            session.scalars(
                select(EnforcementAction.account_id).where(
                    EnforcementAction.account_id.in_(chunk),
                    EnforcementAction.action == "suspend",
                    EnforcementAction.status.in_(EXECUTED),
                    exists().where(
                        later.account_id == EnforcementAction.account_id,
                        later.action == "reinstate",
                        later.status.in_(EXECUTED),
                        later.finished_at > EnforcementAction.finished_at,
                    ),
                )
            )
        )
    return found


def shadow_hits(session: Session, since: datetime, until: datetime) -> dict[str, set[str]]:
    """Shadow rule id → the accounts it matched in [since, until)."""
    found: dict[str, set[str]] = {}
    rows = session.execute(
        select(RuleHit.rule_id, RuleHit.account_id)
        .where(
            RuleHit.mode == "shadow", RuleHit.at >= since, RuleHit.at < until, RuleHit.account_id.is_not(None)
        )
        .distinct()
    )
    for rule, account in rows:
        found.setdefault(rule, set()).add(account)
    return found


def case_permalinks(session: Session, case_ids: Collection[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks([str(i) for i in case_ids]):
        rows = session.execute(
            select(Case.id, Case.permalink).where(
                Case.id.in_([int(i) for i in chunk]), Case.permalink.is_not(None)
            )
        )
        found.update({case_id: link for case_id, link in rows})
    return found

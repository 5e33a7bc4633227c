"""Abuse patterns (``PAT-n``), what each holds (its members), the rules drafted from them and
what names them (investigations, enforcement requests); and every query the patterns workflow
asks of them, including the recent texts and shared values it clusters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime, insert_ignore
from store.cases import Case, CaseAccount
from store.enforcement.models import EXECUTED, EnforcementAction, EnforcementRequest
from store.investigations import Investigation
from store.signals import Report, SignalLink


class Pattern(Base):
    __tablename__ = "patterns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # template, wording, domain, fingerprint
    # domain:x or device_id:y: the same group found again on every run and replica.
    signature: Mapped[str | None] = mapped_column(String(200), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))  # given by a person (Name it)
    status: Mapped[str] = mapped_column(String(16))  # watching, queued, posted
    feedback: Mapped[str | None] = mapped_column(String(16))  # not_abuse
    feedback_by: Mapped[str | None] = mapped_column(String(32))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    named_by: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    account_count: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)  # members in the last 24 h
    prev_day: Mapped[int] = mapped_column(Integer)
    week: Mapped[int] = mapped_column(Integer)
    prev_week: Mapped[int] = mapped_column(Integer)
    growth: Mapped[float | None] = mapped_column(Float)  # day / prev_day; None when new today
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    terms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    examples: Mapped[list[str]] = mapped_column(JSONType, default=list)
    top_accounts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    @property
    def ref(self) -> str:
        return f"PAT-{self.id}"


class PatternMember(Base):
    __tablename__ = "pattern_members"

    pattern_id: Mapped[int] = mapped_column(ForeignKey("patterns.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class PatternRule(Base):
    """A rule drafted from a pattern: kept here until an admin saves it to the playbooks folder
    (files stay the source of truth for live rules)."""

    __tablename__ = "pattern_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pattern_id: Mapped[int] = mapped_column(ForeignKey("patterns.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the playbook YAML
    backtest: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    saved_by: Mapped[str | None] = mapped_column(String(32))
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    path: Mapped[str | None] = mapped_column(String(300))


class PatternLink(Base):
    """Something that names a pattern: an investigation (INV-n) or an enforcement request (REQ-n)."""

    __tablename__ = "pattern_links"

    pattern_id: Mapped[int] = mapped_column(ForeignKey("patterns.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)  # INV-3, REQ-7
    linked_by: Mapped[str | None] = mapped_column(String(32))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


def parse_pattern_ref(ref: str) -> int | None:
    text = ref.strip().upper()
    if text.startswith("PAT-"):
        text = text[4:]
    return int(text) if text.isdigit() and int(text) > 0 else None


# --- what detection reads -------------------------------------------------------------------------
def reports_since(session: Session, since: datetime, until: datetime) -> list[tuple[int, str, str, datetime]]:
    """(id, account, text, occurred_at) of reports with a text in [since, until)."""
    rows = session.execute(
        select(Report.id, Report.account_id, Report.text, Report.occurred_at)
        .where(Report.occurred_at >= since, Report.occurred_at < until, Report.text.is_not(None))
        .order_by(Report.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[2]]


def cases_since(
    session: Session, since: datetime, until: datetime
) -> list[tuple[int, str | None, str, datetime]]:
    """(id, first account, text, created_at) of cases opened in [since, until) that no report
    opened (a report's case carries the report's own text, counted once)."""
    first_account = (
        select(func.min(CaseAccount.account_id)).where(CaseAccount.case_id == Case.id).scalar_subquery()
    )
    from_report = select(Report.id).where(Report.case_id == Case.id).exists()
    rows = session.execute(
        select(Case.id, first_account, Case.text, Case.created_at)
        .where(Case.created_at >= since, Case.created_at < until, ~from_report)
        .order_by(Case.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def shared_values_since(session: Session, since: datetime, keys: list[str]) -> list[SignalLink]:
    """Every account seen with a link value (device, payment fingerprint) that some account
    first showed in the window: the older accounts sharing it are part of the same group."""
    recent: dict[str, set[str]] = {}
    for key, value in session.execute(
        select(SignalLink.key, SignalLink.value)
        .where(SignalLink.first_seen_at >= since, SignalLink.key.in_(keys))
        .distinct()
    ):
        recent.setdefault(key, set()).add(value)
    out: list[SignalLink] = []
    for key, values in sorted(recent.items()):
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):
            out += session.scalars(
                select(SignalLink)
                .where(SignalLink.key == key, SignalLink.value.in_(ordered[start : start + 500]))
                .order_by(SignalLink.value, SignalLink.account_id)
            )
    return out


# --- tracking -----------------------------------------------------------------------------------------
def by_signature(session: Session, signature: str) -> Pattern | None:
    return session.scalars(select(Pattern).where(Pattern.signature == signature)).first()


def overlapping(session: Session, keys: list[str], kinds: tuple[str, ...]) -> dict[int, int]:
    """pattern id → how many of ``keys`` it already holds, among patterns of ``kinds``."""
    out: dict[int, int] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(PatternMember.pattern_id, func.count())
            .join(Pattern, Pattern.id == PatternMember.pattern_id)
            .where(PatternMember.item_key.in_(keys[start : start + 500]), Pattern.kind.in_(kinds))
            .group_by(PatternMember.pattern_id)
        )
        for pattern_id, count in rows:
            out[pattern_id] = out.get(pattern_id, 0) + count
    return out


def add_members(session: Session, pattern_id: int, members: list[tuple[str, str | None, datetime]]) -> int:
    """Adds the members it does not hold yet; returns how many were new."""
    added = 0
    for key, account, at in members:
        added += insert_ignore(
            session,
            PatternMember.__table__,  # type: ignore[arg-type]
            {"pattern_id": pattern_id, "item_key": key, "account_id": account, "at": at},
            ["pattern_id", "item_key"],
        )
    return added


def member_figures(session: Session, pattern_id: int, now: datetime, day: Any, week: Any) -> dict[str, Any]:
    """Size, accounts, first/last seen and the members of each window, in one query."""
    m = PatternMember
    in_window = lambda start, end: func.sum(case((and_(m.at >= start, m.at < end), 1), else_=0))  # noqa: E731
    row = session.execute(
        select(
            func.count(),
            func.count(func.distinct(m.account_id)),
            func.min(m.at),
            func.max(m.at),
            in_window(now - day, now),
            in_window(now - 2 * day, now - day),
            in_window(now - week, now),
            in_window(now - 2 * week, now - week),
        ).where(m.pattern_id == pattern_id)
    ).one()
    return {
        "size": row[0],
        "account_count": row[1],
        "first_seen": row[2],
        "last_seen": row[3],
        "day": int(row[4] or 0),
        "prev_day": int(row[5] or 0),
        "week": int(row[6] or 0),
        "prev_week": int(row[7] or 0),
    }


def top_accounts(session: Session, pattern_id: int, limit: int = 5) -> list[dict[str, Any]]:
    rows = session.execute(
        select(PatternMember.account_id, func.count().label("n"))
        .where(PatternMember.pattern_id == pattern_id, PatternMember.account_id.is_not(None))
        .group_by(PatternMember.account_id)
        .order_by(func.count().desc(), PatternMember.account_id)
        .limit(limit)
    )
    return [{"account_id": a, "count": n} for a, n in rows]


def accounts_of(session: Session, pattern_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PatternMember.account_id)
            .where(PatternMember.pattern_id == pattern_id, PatternMember.account_id.is_not(None))
            .distinct()
            .order_by(PatternMember.account_id)
        )
    )


def queue_post(session: Session, pattern_id: int) -> bool:
    """Marks the pattern queued for its alert unless it was queued, posted or dismissed already;
    True for the one caller that did it."""
    return (
        session.execute(
            update(Pattern)
            .where(Pattern.id == pattern_id, Pattern.status == "watching", Pattern.feedback.is_(None))
            .values(status="queued")
            .returning(Pattern.id)
        ).first()
        is not None
    )


def mark_posted(session: Session, pattern_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(Pattern)
        .where(Pattern.id == pattern_id, Pattern.message_ts.is_(None))
        .values(message_ts=ts, channel=channel, status="posted")
    )


def set_name(session: Session, pattern_id: int, name: str, user: str) -> bool:
    return (
        session.execute(
            update(Pattern)
            .where(Pattern.id == pattern_id)
            .values(name=name, named_by=user)
            .returning(Pattern.id)
        ).first()
        is not None
    )


def dismiss_if_open(session: Session, pattern_id: int, user: str, at: datetime) -> bool:
    """One conditional UPDATE: the first "Not abuse" wins, a second click changes nothing."""
    return (
        session.execute(
            update(Pattern)
            .where(Pattern.id == pattern_id, Pattern.feedback.is_(None))
            .values(feedback="not_abuse", feedback_by=user, feedback_at=at)
            .returning(Pattern.id)
        ).first()
        is not None
    )


def listed(session: Session, limit: int = 50) -> list[Pattern]:
    return list(
        session.scalars(select(Pattern).order_by(Pattern.last_seen.desc(), Pattern.id.desc()).limit(limit))
    )


def active_between(session: Session, start: datetime, end: datetime, limit: int) -> list[Pattern]:
    """Patterns with members in [start, end), not dismissed, largest in that window first."""
    in_week = (
        select(PatternMember.pattern_id, func.count().label("n"))
        .where(PatternMember.at >= start, PatternMember.at < end)
        .group_by(PatternMember.pattern_id)
        .subquery()
    )
    rows = session.execute(
        select(Pattern, in_week.c.n)
        .join(in_week, in_week.c.pattern_id == Pattern.id)
        .where(or_(Pattern.feedback.is_(None), Pattern.feedback != "not_abuse"))
        .order_by(in_week.c.n.desc(), Pattern.id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def members_between(session: Session, pattern_id: int, start: datetime, end: datetime) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                PatternMember.pattern_id == pattern_id, PatternMember.at >= start, PatternMember.at < end
            )
        )
        or 0
    )


# --- rules drafted from a pattern ------------------------------------------------------------------
def add_rule(session: Session, values: dict[str, Any]) -> PatternRule:
    rule = PatternRule(**values)
    session.add(rule)
    session.flush()
    return rule


def rules_of(session: Session, pattern_id: int) -> list[PatternRule]:
    return list(
        session.scalars(
            select(PatternRule).where(PatternRule.pattern_id == pattern_id).order_by(PatternRule.id)
        )
    )


def mark_rule_saved(session: Session, rule_id: int, user: str, at: datetime, path: str) -> bool:
    return (
        session.execute(
            update(PatternRule)
            .where(PatternRule.id == rule_id, PatternRule.saved_at.is_(None))
            .values(saved_by=user, saved_at=at, path=path)
            .returning(PatternRule.id)
        ).first()
        is not None
    )


# --- what names a pattern, and what became of its accounts ---------------------------------------------
def link(session: Session, pattern_id: int, subject: str, user: str | None, at: datetime) -> bool:
    return insert_ignore(
        session,
        PatternLink.__table__,  # type: ignore[arg-type]
        {"pattern_id": pattern_id, "subject": subject, "linked_by": user, "linked_at": at},
        ["pattern_id", "subject"],
    )


def links_of(session: Session, pattern_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PatternLink.subject)
            .where(PatternLink.pattern_id == pattern_id)
            .order_by(PatternLink.linked_at)
        )
    )


def _names(ref: str) -> re.Pattern[str]:
    """``PAT-3`` as a word: not ``PAT-31``, not ``XPAT-3``."""
    return re.compile(rf"(?<![\w-]){re.escape(ref)}(?!\d)", re.IGNORECASE)


def requests_naming(session: Session, ref: str) -> list[int]:
    """Enforcement requests whose note or evidence names ``ref``."""
    rows = session.execute(
        select(EnforcementRequest.id, EnforcementRequest.note, EnforcementRequest.evidence).where(
            or_(EnforcementRequest.note.ilike(f"%{ref}%"), EnforcementRequest.evidence.ilike(f"%{ref}%"))
        )
    )
    word = _names(ref)
    return [r[0] for r in rows if word.search(f"{r[1]} {r[2]}")]


def investigations_naming(session: Session, ref: str) -> list[Investigation]:
    """Investigations whose findings name ``ref``."""
    word = _names(ref)
    found = session.scalars(select(Investigation).where(Investigation.findings.ilike(f"%{ref}%")))
    return [inv for inv in found if word.search(inv.findings or "")]


def account_outcomes(session: Session, accounts: list[str]) -> dict[str, str]:
    """account → 'actioned' (suspended and still so), 'reversed' (suspended, then reinstated),
    for the accounts the ledger has executed anything on; the others are still active."""
    latest: dict[str, tuple[int, str]] = {}
    suspended: set[str] = set()
    for start in range(0, len(accounts), 500):
        rows = session.execute(
            select(EnforcementAction.account_id, EnforcementAction.id, EnforcementAction.action).where(
                EnforcementAction.account_id.in_(accounts[start : start + 500]),
                EnforcementAction.status.in_(EXECUTED),
            )
        )
        for account, action_id, action in rows:
            if action == "suspend":
                suspended.add(account)
            if account not in latest or action_id > latest[account][0]:
                latest[account] = (action_id, action)
    out = {}
    for account, (_id, action) in latest.items():
        if action == "suspend":
            out[account] = "actioned"
        elif account in suspended:
            out[account] = "reversed"
    return out

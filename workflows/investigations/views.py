"""What adapters render of investigations: the dossier of an account (profile, timeline,
velocity, cases, enforcement, linked accounts, rule hits), the investigation itself, results
by code, and the weekly review's numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from store import investigations as store
from store.cases import Case
from store.investigations import OPEN, Investigation
from store.signals import Report, Signal

OUTCOMES: dict[str, str] = {
    "abuse_confirmed": "Abuse confirmed",
    "legitimate_outlier": "Legitimate outlier",
    "inconclusive": "Inconclusive",
}


@dataclass(frozen=True)
class Profile:
    status: Literal["found", "unknown", "unreachable", "not_configured"]
    data: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None

    @property
    def created_at(self) -> datetime | None:
        raw = self.data.get("created_at")
        if not isinstance(raw, str):
            return None
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class EnforcementRecord:
    at: datetime
    action: str  # suspend, reinstate, …
    status: str  # requested, approved, done, failed, …
    ref: str | None = None  # REQ-<n>
    actor: str | None = None
    note: str | None = None
    open: bool = False  # still waiting for approval, approved or executing: not done yet


@dataclass(frozen=True)
class RuleMatch:
    at: datetime
    rule: str
    detail: str | None = None


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # signal, report, case, enforcement, investigation, rule
    text: str  # may carry client text (report reasons, attribute values): adapters escape it


@dataclass(frozen=True)
class LinkedAccount:
    account_id: str
    shared: list[tuple[str, str]]  # (attribute, value)


@dataclass(frozen=True)
class CaseLine:
    ref: str
    status: str
    category: str
    priority: str
    permalink: str | None


@dataclass(frozen=True)
class Dossier:
    account_id: str
    at: datetime
    profile: Profile
    velocity: dict[str, Any]
    signal_total: int
    timeline: list[TimelineItem]
    cases: list[CaseLine]
    enforcement: list[EnforcementRecord]
    linked: list[LinkedAccount]
    rules: list[RuleMatch]
    past: list[InvestigationView]


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str | None
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class InvestigationView:
    id: int
    ref: str
    account_id: str
    status: str
    opened_by: str
    opened_at: datetime
    anomaly_id: int | None
    outcome: str | None
    findings: str | None
    closed_by: str | None
    closed_at: datetime | None
    channel: str | None
    thread_ts: str | None
    message_ts: str | None
    events: list[EventView] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def outcome_label(self) -> str | None:
        return OUTCOMES.get(self.outcome or "", self.outcome)


def view_of(session: Session, inv: Investigation, with_events: bool = False) -> InvestigationView:
    events = (
        [EventView(e.at, e.actor, e.kind, dict(e.data or {})) for e in store.timeline(session, inv.id)]
        if with_events
        else []
    )
    return InvestigationView(
        id=inv.id,
        ref=inv.ref,
        account_id=inv.account_id,
        status=inv.status,
        opened_by=inv.opened_by,
        opened_at=inv.opened_at,
        anomaly_id=inv.anomaly_id,
        outcome=inv.outcome,
        findings=inv.findings,
        closed_by=inv.closed_by,
        closed_at=inv.closed_at,
        channel=inv.channel,
        thread_ts=inv.thread_ts,
        message_ts=inv.message_ts,
        events=events,
    )


Outcome = Literal["opened", "exists", "invalid_account", "closed", "already_closed", "not_found", "noted"]


@dataclass(frozen=True)
class InvestigationResult:
    outcome: Outcome
    investigation: InvestigationView | None = None


def evidence_for(inv: InvestigationView) -> str:
    """What a /suspend request carries from an investigation."""
    return f"{inv.ref} (Vigil investigation of {inv.account_id})"


# --- the dossier's timeline ----------------------------------------------------------------
def attributes_text(attributes: dict[str, Any] | None, limit: int = 4) -> str:
    if not attributes:
        return ""
    # By name: PostgreSQL's JSONB gives keys back in its own order, SQLite as they were sent.
    parts = [f"{k}={v}" for k, v in sorted(attributes.items())[:limit] if not isinstance(v, dict | list)]
    return " ".join(parts)


def signal_item(signal: Signal) -> TimelineItem:
    value = f" {signal.value:g}" if signal.value is not None else ""
    detail = attributes_text(signal.attributes)
    return TimelineItem(signal.occurred_at, "signal", f"{signal.type}{value} {detail}".strip())


def report_item(report: Report) -> TimelineItem:
    linked = f" → CASE-{report.case_id}" if report.case_id else ""
    who = f" by {report.reporter}" if report.reporter else ""
    return TimelineItem(report.occurred_at, "report", f"report: {report.reason or 'no reason'}{who}{linked}")


def case_item(case: Case) -> TimelineItem:
    return TimelineItem(case.created_at, "case", f"{case.ref} opened ({case.category}, {case.priority})")


def case_line(case: Case) -> CaseLine:
    return CaseLine(case.ref, case.status, case.category, case.priority, case.permalink)


def investigation_items(inv: InvestigationView) -> list[TimelineItem]:
    items = [TimelineItem(inv.opened_at, "investigation", f"{inv.ref} opened")]
    if inv.closed_at:
        items.append(TimelineItem(inv.closed_at, "investigation", f"{inv.ref} closed: {inv.outcome_label}"))
    return items


def enforcement_item(record: EnforcementRecord) -> TimelineItem:
    ref = f" {record.ref}" if record.ref else ""
    return TimelineItem(record.at, "enforcement", f"{record.action} {record.status}{ref}")


def rule_item(match: RuleMatch) -> TimelineItem:
    return TimelineItem(match.at, "rule", f"rule {match.rule} matched")


def linked_accounts(rows: list[tuple[str, str, str]], limit: int) -> list[LinkedAccount]:
    """(other account, attribute, value) rows as accounts, those sharing the most first."""
    shared: dict[str, list[tuple[str, str]]] = {}
    for other_account, key, value in rows:
        shared.setdefault(other_account, []).append((key, value))
    ranked = sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [LinkedAccount(account, pairs) for account, pairs in ranked[:limit]]


class InvestigationWeekStats:
    """For the weekly review: opened, closed and their outcomes, and what was still open."""

    def week(self, session: Session, start: datetime, end: datetime) -> Any:
        from workflows.reports import InvestigationWeek, OpenInvestigation

        closed_rows = store.outcomes_between(session, start, end)
        return InvestigationWeek(
            opened=store.opened_between(session, start, end),
            closed=sum(count for _, count in closed_rows),
            outcomes={outcome or "unknown": count for outcome, count in closed_rows},
            open_now=store.open_count_at(session, end),
            oldest_open=[
                OpenInvestigation(
                    ref=inv.ref, title=inv.account_id, owner=inv.opened_by, opened_at=inv.opened_at
                )
                for inv in store.oldest_open_at(session, end)
            ],
        )

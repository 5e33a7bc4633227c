"""What adapters read about cases: frozen views of a case, its timeline and rule hits, the
SLA state, the results of a use case, the queue and App Home, and the notices a case sends.

A result or a notice is a code and fields; commands/blocks/cases.py turns it into words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from store import cases as store
from store.ai import suggestion_for
from store.cases import Case
from store.playbooks import hits_for
from workflows.cases.triage import CATEGORIES

NEW, CLAIMED, RESOLVED = "new", "claimed", "resolved"
OUTCOMES: dict[str, str] = {
    "actioned": "Actioned",
    "no_action": "No action",
    "duplicate": "Duplicate",
    "not_ts": "Not T&S",
}
NUDGE_AT = 0.75  # of the SLA elapsed


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str | None
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RuleHitView:
    rule_id: str
    mode: str
    trigger: str
    why: dict[str, Any]
    note: str | None


@dataclass(frozen=True)
class SuggestionLine:
    """The triage suggestion shown under the playbook's decision (workflows/ai); never applied."""

    category: str
    priority: str
    confidence: float
    rationale: str
    source: str  # ai, offline


@dataclass(frozen=True)
class CaseView:
    id: int
    ref: str
    channel: str
    ts: str
    source: str
    author: str | None
    text: str
    category: str
    priority: str
    status: str
    outcome: str | None
    escalations: int
    created_at: datetime
    sla_due_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    card_ts: str | None
    permalink: str | None
    source_deleted: bool
    accounts: list[str] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    second_review: str | None = None
    rule_hits: list[RuleHitView] = field(default_factory=list)
    suggestion: SuggestionLine | None = None

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


def view_of(session: Session, case: Case, with_events: bool = False) -> CaseView:
    events = (
        [EventView(e.at, e.actor, e.kind, dict(e.data or {})) for e in store.timeline(session, case.id)]
        if with_events
        else []
    )
    return CaseView(
        id=case.id,
        ref=case.ref,
        channel=case.channel,
        ts=case.ts,
        source=case.source,
        author=case.author,
        text=case.text,
        category=case.category,
        priority=case.priority,
        status=case.status,
        outcome=case.outcome,
        escalations=case.escalations,
        created_at=case.created_at,
        sla_due_at=case.sla_due_at,
        claimed_by=case.claimed_by,
        claimed_at=case.claimed_at,
        resolved_by=case.resolved_by,
        resolved_at=case.resolved_at,
        card_ts=case.card_ts,
        permalink=case.permalink,
        source_deleted=case.source_deleted,
        accounts=store.accounts_of(session, case.id),
        events=events,
        labels=list(case.labels or []),
        recommendations=list(case.recommendations or []),
        second_review=case.second_review,
        rule_hits=[
            RuleHitView(h.rule_id, h.mode, h.trigger, dict(h.why or {}), h.note)
            for h in hits_for(session, "case", case.ref)
        ],
        suggestion=_suggestion(session, case.id),
    )


def _suggestion(session: Session, case_id: int) -> SuggestionLine | None:
    row = suggestion_for(session, case_id)
    if row is None:
        return None
    return SuggestionLine(row.category, row.priority, row.confidence, row.rationale, row.source)


@dataclass(frozen=True)
class SlaState:
    state: Literal["ok", "at_risk", "breached", "met", "missed"]
    remaining: timedelta  # negative once breached


def sla_state(case: CaseView, now: datetime) -> SlaState:
    if case.resolved_at is not None:
        met = case.resolved_at <= case.sla_due_at
        return SlaState("met" if met else "missed", case.sla_due_at - case.resolved_at)
    remaining = case.sla_due_at - now
    total = case.sla_due_at - case.created_at
    if remaining <= timedelta(0):
        return SlaState("breached", remaining)
    if total > timedelta(0) and (now - case.created_at) >= total * NUDGE_AT:
        return SlaState("at_risk", remaining)
    return SlaState("ok", remaining)


Outcome = Literal[
    "created",
    "exists",
    "claimed",
    "already_yours",
    "taken",
    "released",
    "not_owner",
    "escalated",
    "resolved",
    "already_resolved",
    "not_found",
    "noted",
    "recorded",
]


@dataclass(frozen=True)
class CaseResult:
    """What a use case did (``outcome``) and the case as it stands after it."""

    outcome: Outcome
    case: CaseView | None = None


NoticeKind = Literal["escalated", "sla_nudged", "sla_breached", "text"]


@dataclass(frozen=True)
class CaseNotice:
    """What a case says in its thread or the alerts channel, as a code and the fields as they
    were when it was queued (the owner and priority may change before it is posted):

    - ``escalated``: ``from``, ``to`` (priorities), ``by`` (who escalated)
    - ``sla_nudged``, ``sla_breached``: ``priority``, ``owner`` (None when unclaimed)
    - ``text``: ``text``, a line a version before codes queued; posted as it was written
    """

    kind: NoticeKind
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SlaReport:
    nudged: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HomeData:
    mine: list[CaseView]
    unclaimed: list[CaseView]
    at_risk: list[CaseView]
    now: datetime

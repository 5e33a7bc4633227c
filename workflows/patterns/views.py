"""What adapters render: a pattern as read (``PatternView``), what became of its accounts, a
drafted rule with its backtest, and a detection run's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from store import patterns as store
from store.patterns import Pattern, PatternRule
from workflows.reports import AbusePattern

KIND_LABELS = {
    "template": "near-duplicate messages",
    "wording": "similar wording",
    "domain": "shared link domain",
    "fingerprint": "shared fingerprint",
}


@dataclass(frozen=True)
class Outcomes:
    """What became of the pattern's accounts: enforcement's ledger, read now."""

    actioned: int = 0
    reversed: int = 0
    active: int = 0
    linked: list[str] = field(default_factory=list)  # INV-n, REQ-n that name the pattern


@dataclass(frozen=True)
class PatternView:
    id: int
    kind: str
    label: str
    name: str | None
    named_by: str | None
    status: str
    feedback: str | None
    feedback_by: str | None
    size: int
    account_count: int
    day: int
    prev_day: int
    week: int
    prev_week: int
    first_seen: datetime
    last_seen: datetime
    terms: list[str]
    examples: list[str]
    top_accounts: list[dict[str, Any]]
    channel: str | None
    message_ts: str | None
    outcomes: Outcomes | None = None

    @property
    def ref(self) -> str:
        return f"PAT-{self.id}"

    @property
    def title(self) -> str:
        return self.name or self.label

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def growth(self) -> str:
        """This day and week against the ones before: ``+12 today (3 before), +30 this week (0 before)``."""
        return f"+{self.day} today ({self.prev_day} before), +{self.week} this week ({self.prev_week} before)"

    @property
    def trend(self) -> Literal["new", "rising", "falling", "steady"]:
        if self.prev_week == 0 and self.week == self.size:
            return "new"
        if self.week > self.prev_week:
            return "rising"
        if self.week < self.prev_week:
            return "falling"
        return "steady"

    def summary(self) -> str:
        return (
            f"{self.ref} · {self.kind_label}: {self.title} — {self.size} items from "
            f"{self.account_count} accounts, {self.growth}"
        )


def view_of(pattern: Pattern, outcomes: Outcomes | None = None) -> PatternView:
    return PatternView(
        id=pattern.id,
        kind=pattern.kind,
        label=pattern.label,
        name=pattern.name,
        named_by=pattern.named_by,
        status=pattern.status,
        feedback=pattern.feedback,
        feedback_by=pattern.feedback_by,
        size=pattern.size,
        account_count=pattern.account_count,
        day=pattern.day,
        prev_day=pattern.prev_day,
        week=pattern.week,
        prev_week=pattern.prev_week,
        first_seen=pattern.first_seen,
        last_seen=pattern.last_seen,
        terms=list(pattern.terms or []),
        examples=list(pattern.examples or []),
        top_accounts=list(pattern.top_accounts or []),
        channel=pattern.channel,
        message_ts=pattern.message_ts,
        outcomes=outcomes,
    )


@dataclass(frozen=True)
class WrongHit:
    case: str  # CASE-n
    accounts: list[str]
    outcome: str


@dataclass(frozen=True)
class RuleDraft:
    id: int
    pattern_id: int
    rule_id: str
    body: str  # the playbook YAML, mode shadow
    condition: str
    matched: int
    true_positives: int
    false_positives: int
    false_negatives: int
    unlabelled: int
    precision: float | None
    recall: float | None
    wrong: list[WrongHit]
    saved_path: str | None = None


def draft_of(rule: PatternRule) -> RuleDraft:
    figures = rule.backtest or {}
    return RuleDraft(
        id=rule.id,
        pattern_id=rule.pattern_id,
        rule_id=rule.rule_id,
        body=rule.body,
        condition=figures.get("condition", ""),
        matched=figures.get("matched", 0),
        true_positives=figures.get("true_positives", 0),
        false_positives=figures.get("false_positives", 0),
        false_negatives=figures.get("false_negatives", 0),
        unlabelled=figures.get("unlabelled", 0),
        precision=figures.get("precision"),
        recall=figures.get("recall"),
        wrong=[WrongHit(**w) for w in figures.get("wrong", [])],
        saved_path=rule.path,
    )


@dataclass
class DetectionReport:
    items: int = 0
    new: list[PatternView] = field(default_factory=list)
    grown: list[PatternView] = field(default_factory=list)
    unchanged: int = 0
    queued: list[PatternView] = field(default_factory=list)  # alerts to post (new or fast-growing)


@dataclass(frozen=True)
class ActionResult:
    """What a button did: ``done``, ``already`` (someone was first), ``not_found``, ``refused``."""

    outcome: Literal["done", "already", "not_found", "refused"]
    pattern: PatternView | None = None
    detail: str = ""


class TopPatterns:
    """The weekly digest's "top abuse patterns": the patterns with the most new members in the
    week, not dismissed as not abuse (implements reports' ``PatternSource``)."""

    def top(self, session: Session, start: datetime, end: datetime, limit: int) -> list[AbusePattern]:
        out = []
        for pattern in store.active_between(session, start, end, limit):
            in_week = store.members_between(session, pattern.id, start, end)
            before = store.members_between(session, pattern.id, start - (end - start), start)
            trend = "new" if pattern.first_seen >= start else "rising" if in_week > before else "falling"
            if in_week == before:
                trend = "steady"
            view = view_of(pattern)
            out.append(
                AbusePattern(
                    title=f"{view.ref} {view.title}",
                    summary=(
                        f"{view.kind_label}, {pattern.account_count} accounts, "
                        f"{in_week} this week ({before} before)"
                    ),
                    cases=in_week,
                    trend=trend,
                )
            )
        return out

"""Backtests: replay stored cases through a candidate RuleSet, as each case stood when it
was opened, and compare with what live rules did and with the outcomes recorded since."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from store import playbooks as store
from store.cases import Case, accounts_of
from workflows.playbooks.context import case_context
from workflows.playbooks.evaluate import evaluate
from workflows.playbooks.features import AccountFeatures
from workflows.playbooks.loader import RuleSet

# A live hit is written in the transaction that opened the case, a moment after its
# created_at: hits this long after the window still belong to cases inside it.
_HIT_LAG = timedelta(minutes=1)


@dataclass
class RuleBacktest:
    rule_id: str
    trigger: str
    mode: str
    evaluated: int = 0
    matched: int = 0
    live_matched: int = 0
    newly_matched: int = 0  # matches now, did not match live
    no_longer_matched: int = 0  # matched live, does not match now
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    unlabelled: int = 0
    errors: int = 0
    note: str = ""
    # Which cases it matched, and which of those were not abuse: a comparison names them.
    matched_refs: list[str] = field(default_factory=list)
    false_positive_refs: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_positives
        return self.true_positives / judged if judged else None

    @property
    def recall(self) -> float | None:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else None


class LabelSource(Protocol):
    """Was this subject, in hindsight, abuse (True), not abuse (False), or unknown (None)?"""

    def label(self, session: Session, case: Case) -> bool | None: ...


class CaseOutcomeLabels:
    """Cases resolved as actioned are abuse; as no action, not abuse. Sources added later
    (suspensions that were reversed) can overrule through ``overrides``."""

    def __init__(self, overrides: list[LabelSource] | None = None) -> None:
        self.overrides = overrides or []

    def label(self, session: Session, case: Case) -> bool | None:
        for source in self.overrides:
            verdict = source.label(session, case)
            if verdict is not None:
                return verdict
        return {"actioned": True, "no_action": False}.get(case.outcome or "")


def backtest(
    session: Session,
    rules: RuleSet,
    since: datetime,
    until: datetime,
    features: AccountFeatures,
    rule_id: str | None = None,
    labels: LabelSource | None = None,
) -> list[RuleBacktest]:
    """Replay stored cases through ``rules`` as they stood when each case was opened, and
    compare with what live rules did and with the outcomes recorded since."""
    labels = labels or CaseOutcomeLabels()
    selected = [r for r in rules.rules if rule_id is None or r.id == rule_id]
    results = {r.id: RuleBacktest(r.id, r.rule.trigger, r.rule.mode) for r in selected}
    for r in selected:
        if r.rule.trigger != "case.created":
            results[r.id].note = f"no replayable history for {r.rule.trigger} yet"
    replayable = RuleSet(
        [r for r in selected if r.rule.trigger == "case.created"], rules.version, rules.folder, rules.files
    )
    if not replayable.rules:
        return list(results.values())
    live = store.live_hits_between(session, "case.created", since, until + _HIT_LAG)
    for case in store.cases_opened_between(session, since, until):
        created = store.created_event_data(session, case.id)
        triage = (created or {}).get("triage")
        accounts = accounts_of(session, case.id)
        account = features.for_account(session, accounts[0] if accounts else None, case.created_at)
        context = case_context(case, accounts, account, case.created_at, as_created=True)
        if isinstance(triage, dict):  # what the case looked like before any rule touched it
            context["case"]["category"] = triage.get("category", case.category)
            context["case"]["priority"] = triage.get("priority", case.priority)
        evaluation = evaluate(replayable, "case.created", case.ref, context, case.created_at, everything=True)
        matched = {m.rule.id for m in evaluation.matches}
        errored = {rule for rule, _ in evaluation.errors}
        verdict = labels.label(session, case)
        for compiled in replayable.rules:
            row = results[compiled.id]
            row.evaluated += 1
            if compiled.id in errored:
                row.errors += 1
                continue
            hit, was_live = compiled.id in matched, (compiled.id, case.ref) in live
            row.matched += hit
            if hit:
                row.matched_refs.append(case.ref)
            row.live_matched += was_live
            row.newly_matched += hit and not was_live
            row.no_longer_matched += was_live and not hit
            if verdict is None:
                row.unlabelled += hit
            elif hit:
                row.true_positives += verdict
                row.false_positives += not verdict
                if not verdict:
                    row.false_positive_refs.append(case.ref)
            elif verdict:
                row.false_negatives += 1
    return list(results.values())


def parse_since(text: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w`` back from ``now``, or an ISO date/time (in ``now``'s zone
    when it names none)."""
    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(hours=amount) * {"h": 1, "d": 24, "w": 168}[unit]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: use 30d, 12h, 2w or an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=now.tzinfo)

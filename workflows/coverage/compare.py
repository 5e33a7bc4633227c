"""Stress-testing a mitigation: two playbook folders replayed over the same history, side by
side: what each catches, whom each would have hit wrongly (reversed suspensions, legitimate
outliers, cases closed without action), and how much of the weak points each covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import coverage as store
from store.cases import Case
from workflows.coverage.views import CoverageReport
from workflows.playbooks import (
    AccountFeatures,
    CaseOutcomeLabels,
    LabelSource,
    RuleBacktest,
    RuleSet,
    backtest,
)

COMPARE_COLUMNS = ("rule", "folder", "matched", "true_positives", "false_positives", "precision", "recall")


class LegitimateOutlierLabels:
    """A case about an account an investigation cleared as a legitimate outlier was not abuse."""

    def label(self, session: Session, case: Case) -> bool | None:
        accounts = store.accounts_of_cases(session, [case.id]).get(case.id, [])
        return False if store.cleared_accounts(session, accounts) else None


class ReinstatedAccountLabels:
    """A case about an account whose suspension was later reversed was not abuse, even when
    the reinstatement was not linked to the case's own request."""

    def label(self, session: Session, case: Case) -> bool | None:
        accounts = store.accounts_of_cases(session, [case.id]).get(case.id, [])
        return False if store.reversed_accounts(session, accounts) else None


@dataclass(frozen=True)
class FolderRun:
    folder: str
    version: str
    rows: list[RuleBacktest]


@dataclass(frozen=True)
class WrongHit:
    folder: str
    rule_id: str
    case_ref: str
    accounts: list[str]
    why: str  # legitimate outlier, suspension reversed, closed without action


@dataclass(frozen=True)
class WeakPointChange:
    category: str
    confirmed: int
    weak: int
    caught: int  # confirmed abuse in the category some rule of the current folder matched
    caught_compare: int  # … of the compared folder

    @property
    def change(self) -> int:
        return self.caught_compare - self.caught


@dataclass(frozen=True)
class Comparison:
    since: datetime
    until: datetime
    current: FolderRun
    other: FolderRun
    wrongly_hit: list[WrongHit]
    weak_points: list[WeakPointChange]

    def table(self) -> list[dict[str, Any]]:
        """The side-by-side table: rule, folder, matched, true_positives, false_positives,
        precision, recall."""
        return [
            {
                "rule": r.rule_id,
                "folder": run.folder,
                "matched": r.matched,
                "true_positives": r.true_positives,
                "false_positives": r.false_positives,
                "precision": None if r.precision is None else round(r.precision, 4),
                "recall": None if r.recall is None else round(r.recall, 4),
            }
            for run in (self.current, self.other)
            for r in run.rows
        ]


def _case_id(ref: str) -> int:
    return int(ref.removeprefix("CASE-"))


def _wrong_hits(session: Session, run: FolderRun) -> list[WrongHit]:
    refs = sorted({ref for r in run.rows for ref in r.false_positive_refs}, key=_case_id)
    accounts = store.accounts_of_cases(session, [_case_id(ref) for ref in refs])
    everyone = {a for names in accounts.values() for a in names}
    cleared, reversed_ = store.cleared_accounts(session, everyone), store.reversed_accounts(session, everyone)
    hits: list[WrongHit] = []
    for r in run.rows:
        for ref in r.false_positive_refs:
            names = accounts.get(_case_id(ref), [])
            why = (
                "legitimate outlier"
                if cleared & set(names)
                else "suspension reversed"
                if reversed_ & set(names)
                else "closed without action"
            )
            hits.append(WrongHit(run.folder, r.rule_id, ref, names, why))
    return hits


def _caught(session: Session, run: FolderRun) -> set[str]:
    refs = {ref for r in run.rows for ref in r.matched_refs}
    accounts = store.accounts_of_cases(session, [_case_id(ref) for ref in refs])
    return {a for names in accounts.values() for a in names}


def compare(
    session: Session,
    current: RuleSet,
    other: RuleSet,
    since: datetime,
    until: datetime,
    coverage: CoverageReport,
    labels: list[LabelSource] | None = None,
) -> Comparison:
    """Replay both folders over the cases opened in [since, until) and set them side by side
    against the coverage of the same window."""
    verdicts = CaseOutcomeLabels([LegitimateOutlierLabels(), ReinstatedAccountLabels(), *(labels or [])])
    runs = [
        FolderRun(
            str(rules.folder),
            rules.version,
            backtest(session, rules, since, until, AccountFeatures(), None, verdicts),
        )
        for rules in (current, other)
    ]
    caught = [_caught(session, run) for run in runs]
    changes = []
    for point in coverage.weak_points:
        accounts = {f.account_id for f in coverage.findings if f.category == point.key}
        changes.append(
            WeakPointChange(
                point.key, point.confirmed, point.weak, len(accounts & caught[0]), len(accounts & caught[1])
            )
        )
    return Comparison(
        since=since,
        until=until,
        current=runs[0],
        other=runs[1],
        wrongly_hit=_wrong_hits(session, runs[0]) + _wrong_hits(session, runs[1]),
        weak_points=changes,
    )

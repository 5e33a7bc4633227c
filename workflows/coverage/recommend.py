"""Recommendations generated from the coverage figures: for each top weak point, what the
numbers say and the most concrete next step (a shadow rule that would have caught it, or a
rule nobody wrote yet), each with the evidence it rests on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from store import coverage as store
from workflows.coverage.derive import PEOPLE
from workflows.coverage.views import CoverageReport, FindingView

SOURCE_WORDS = {
    "report": "reports",
    "cx_escalation": "CX escalations",
    "investigation": "analysts' own investigations",
}
EVIDENCE_MAX = 5


@dataclass(frozen=True)
class Evidence:
    ref: str  # CASE-3, rep-91, INV-2, REQ-7, a rule id
    url: str | None = None  # the Slack message, when known


@dataclass(frozen=True)
class Recommendation:
    key: str  # the weak point
    text: str
    evidence: list[Evidence]


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} h"


def _evidence(session: Session, findings: list[FindingView]) -> list[Evidence]:
    refs: list[str] = []
    for f in sorted(findings, key=lambda f: -f.delay_hours):
        for ref in (f.source_ref, f.confirmed_by):
            if ref not in refs:
                refs.append(ref)
    refs = refs[:EVIDENCE_MAX]
    cases = [int(r.removeprefix("CASE-")) for r in refs if r.startswith("CASE-") and r[5:].isdigit()]
    links = store.case_permalinks(session, cases)
    return [
        Evidence(r, links.get(int(r[5:])) if r.startswith("CASE-") and r[5:].isdigit() else None)
        for r in refs
    ]


def recommend(session: Session, report: CoverageReport, limit: int = 3) -> list[Recommendation]:
    shadow = store.shadow_hits(session, report.since, report.until)
    hit_accounts = set().union(*shadow.values()) if shadow else set()
    wrong = store.cleared_accounts(session, hit_accounts) | store.reversed_accounts(session, hit_accounts)
    out: list[Recommendation] = []
    for point in report.weak_points[:limit]:
        findings = [f for f in report.findings if f.category == point.key or f.pattern_ref == point.key]
        accounts = {f.account_id for f in findings}
        by_people = Counter(f.source for f in findings if f.source in PEOPLE)
        if by_people:
            source, count = by_people.most_common(1)[0]
            found = f"found by {SOURCE_WORDS.get(source, source)} {count / len(findings):.0%} of the time"
        else:
            found = f"found late ({point.weak} of {point.confirmed} after {report.late_after_hours:g} h)"
        text = f"`{point.key}` is {found}, median {_hours(point.median_delay_hours)} after the first signal"
        caught = {rule: len(hit & accounts) for rule, hit in shadow.items() if hit & accounts}
        evidence = _evidence(session, findings)
        if caught:
            rule = max(caught, key=lambda r: (caught[r], -len(shadow[r] & wrong), r))
            misses = len(shadow[rule] & wrong)
            text += (
                f"; the shadow rule `{rule}` would have caught {caught[rule] / len(findings):.0%} with "
                f"{misses} wrong hit{'s' if misses != 1 else ''}: consider making it live"
            )
            evidence.append(Evidence(rule))
        else:
            unmatched = sum(1 for f in findings if not f.rule_matched)
            text += (
                f"; no rule matched {unmatched} of {len(findings)}: consider a rule for it (stress-test it "
                "with `vigil rules backtest --compare`) or send it to Engineering"
            )
        out.append(Recommendation(point.key, text, evidence))
    return out

"""The coverage report: per group (category, source or pattern), who found confirmed abuse
and how late, and the weak points ranked. Built from stored findings; the JSON shape is the
contract in docs/coverage.md."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from workflows.coverage.derive import AUTOMATION, PEOPLE, SOURCES

By = Literal["category", "source", "pattern"]
BY_CHOICES: tuple[str, ...] = ("category", "source", "pattern")
NO_PATTERN = "(no pattern)"


class FindingView(BaseModel):
    """One stored finding as the report reads it."""

    account_id: str
    category: str
    confirmed_by: str
    confirmed_at: datetime
    source: str
    source_ref: str
    found_at: datetime
    first_signal_ref: str | None
    first_signal_at: datetime
    delay_hours: float
    pattern_ref: str | None
    rule_matched: bool


class Group(BaseModel):
    key: str
    confirmed: int
    by_source: dict[str, int]
    automation: int
    people: int
    automation_share: float
    people_share: float
    median_delay_hours: float | None
    p90_delay_hours: float | None
    late: int  # found after `coverage.late_after`
    no_rule_matched: int
    weak: int  # found only by people, or late
    weak_score: float


class WeakPoint(BaseModel):
    rank: int
    key: str
    weak: int
    confirmed: int
    people_share: float
    median_delay_hours: float | None
    why: str


class CoverageReport(BaseModel):
    since: datetime
    until: datetime
    by: By
    late_after_hours: float
    totals: Group
    groups: list[Group]
    weak_points: list[WeakPoint]
    findings: list[FindingView]

    def csv_rows(self) -> list[list[str]]:
        header = [
            self.by,
            "confirmed",
            "automation",
            "people",
            "automation_share",
            "people_share",
            "median_delay_hours",
            "p90_delay_hours",
            "late",
            "no_rule_matched",
            "weak",
            "weak_score",
            *(f"source_{s}" for s in SOURCES),
        ]
        rows = [header]
        for group in [*self.groups, self.totals]:
            rows.append(
                [
                    group.key,
                    str(group.confirmed),
                    str(group.automation),
                    str(group.people),
                    f"{group.automation_share:.3f}",
                    f"{group.people_share:.3f}",
                    _text(group.median_delay_hours),
                    _text(group.p90_delay_hours),
                    str(group.late),
                    str(group.no_rule_matched),
                    str(group.weak),
                    f"{group.weak_score:.2f}",
                    *(str(group.by_source.get(s, 0)) for s in SOURCES),
                ]
            )
        return rows


def _text(hours: float | None) -> str:
    return "" if hours is None else f"{hours:.1f}"


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (the value below which ``share`` of them fall); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def group_of(key: str, findings: Sequence[FindingView], late_after: timedelta) -> Group:
    late_hours = late_after.total_seconds() / 3600
    by_source: dict[str, int] = {}
    for f in findings:
        by_source[f.source] = by_source.get(f.source, 0) + 1
    automation = sum(n for s, n in by_source.items() if s in AUTOMATION)
    people = sum(n for s, n in by_source.items() if s in PEOPLE)
    delays = [f.delay_hours for f in findings]
    late = sum(1 for d in delays if d > late_hours)
    weak = sum(1 for f in findings if f.source in PEOPLE or f.delay_hours > late_hours)
    total = len(findings)
    return Group(
        key=key,
        confirmed=total,
        by_source=dict(
            sorted(by_source.items(), key=lambda item: SOURCES.index(item[0]) if item[0] in SOURCES else 99)
        ),
        automation=automation,
        people=people,
        automation_share=round(automation / total, 4) if total else 0.0,
        people_share=round(people / total, 4) if total else 0.0,
        median_delay_hours=_round(median(delays)),
        p90_delay_hours=_round(percentile(delays, 0.9)),
        late=late,
        no_rule_matched=sum(1 for f in findings if not f.rule_matched),
        weak=weak,
        # Weighted by volume: the share found late or only by people, times how many there were.
        weak_score=float(weak),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def key_of(finding: FindingView, by: By) -> str:
    if by == "source":
        return finding.source
    if by == "pattern":
        return finding.pattern_ref or NO_PATTERN
    return finding.category


def build_report(
    findings: Sequence[FindingView], since: datetime, until: datetime, by: By, late_after: timedelta
) -> CoverageReport:
    keys = sorted({key_of(f, by) for f in findings})
    groups = [group_of(k, [f for f in findings if key_of(f, by) == k], late_after) for k in keys]
    groups.sort(key=lambda g: (-g.confirmed, g.key))
    late_h = late_after.total_seconds() / 3600
    # Weak points are categories or patterns; by source, the people sources are the weak ones by
    # definition, so the ranking stays per category there.
    ranked_on = (
        groups
        if by != "source"
        else [
            group_of(k, [f for f in findings if f.category == k], late_after)
            for k in sorted({f.category for f in findings})
        ]
    )
    weak = sorted(
        (g for g in ranked_on if g.weak and g.key != NO_PATTERN),
        key=lambda g: (-g.weak_score, -g.people_share, g.key),
    )
    points = [
        WeakPoint(
            rank=i,
            key=g.key,
            weak=g.weak,
            confirmed=g.confirmed,
            people_share=g.people_share,
            median_delay_hours=g.median_delay_hours,
            why=(
                f"{g.weak} of {g.confirmed} found only by people or after {late_h:g} h; "
                f"{g.people_share:.0%} by people, median delay "
                + ("n/a" if g.median_delay_hours is None else f"{g.median_delay_hours:g} h")
            ),
        )
        for i, g in enumerate(weak, start=1)
    ]
    return CoverageReport(
        since=since,
        until=until,
        by=by,
        late_after_hours=late_h,
        totals=group_of("all", findings, late_after),
        groups=groups,
        weak_points=points,
        findings=list(findings),
    )

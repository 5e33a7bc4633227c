"""Transparency figures (DSA Art. 15/24) for a period: restrictions by the statement's fields,
appeals and their outcomes, statements submitted or not. Every count is made by the database
(store/decisions.py); only the median time to decide is taken here, from the database's rows,
as SQLite has no percentile function. docs/dsa.md documents each figure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import decisions as store

BREAKDOWNS = (*store.STATEMENT_FIELDS, "territorial_scope")


@dataclass(frozen=True)
class Figure:
    figure: str  # e.g. restrictions, appeals_received
    breakdown: str  # e.g. category:STATEMENT_CATEGORY_SCAMS_AND_FRAUD, or "" for a total
    value: float


@dataclass
class TransparencyReport:
    since: datetime
    until: datetime
    timezone: str
    figures: list[Figure] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.timezone,
        }
        for f in self.figures:
            if f.breakdown:
                name, _, key = f.breakdown.partition(":")
                out.setdefault(f.figure, {}).setdefault(f"by_{name}", {})[key] = f.value
            elif f.figure.startswith("restrictions"):
                out.setdefault(f.figure, {})["total"] = f.value
            else:
                group, _, name = f.figure.partition("_")
                out.setdefault(group, {})[name] = f.value
        return out


def _label(key: Any) -> str:
    if key is None:
        return "none"
    if isinstance(key, list):
        return ",".join(str(k) for k in key)
    return str(key)


def transparency_report(
    session: Session, since: datetime, until: datetime, timezone: str
) -> TransparencyReport:
    report = TransparencyReport(since, until, timezone)
    total = None
    for name in BREAKDOWNS:
        rows = store.restrictions_by(session, name, since, until)
        if total is None:
            total = sum(n for _, n in rows)
            report.figures.append(Figure("restrictions", "", total))
        merged: dict[str, int] = {}
        for key, n in rows:
            merged[_label(key)] = merged.get(_label(key), 0) + n
        report.figures += [Figure("restrictions", f"{name}:{key}", n) for key, n in sorted(merged.items())]
    for name, n in store.appeal_counts(session, since, until).items():
        report.figures.append(Figure(f"appeals_{name}", "", n))
    hours = [
        (decided - received).total_seconds() / 3600
        for received, decided in store.appeal_decision_times(session, since, until)
    ]
    report.figures.append(
        Figure("appeals_median_hours_to_decide", "", round(statistics.median(hours), 2) if hours else 0)
    )
    for name, n in store.statement_counts(session, since, until).items():
        report.figures.append(Figure(f"statements_{name}", "", n))
    for name, n in store.notice_counts(session, since, until).items():
        report.figures.append(Figure(f"notices_{name}", "", n))
    return report

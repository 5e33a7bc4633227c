"""Episodes: the hourly findings of one series and kind grouped into incidents. Hours with at
most ``merge_gap`` of quiet between them are one incident (one post, not one per hour).
Pure: the backtest and the benchmark use it; the live lifecycle applies the same rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.anomalies.detect import HOUR, Finding, Series


@dataclass(frozen=True)
class Incident:
    series: Series
    kind: str
    start: datetime  # the first anomalous hour
    end: datetime  # the last anomalous hour (its start)
    peak_score: float  # the score furthest from zero, with its sign
    expected: str | None  # the calendar's label when any of its hours was on an expected day
    hours: int  # how many hours were anomalous


def incidents(findings: Iterable[tuple[datetime, Finding]], merge_gap: timedelta) -> list[Incident]:
    """(hour judged, finding) pairs in any order → incidents ordered by start, then series."""
    by_key: dict[tuple[Series, str], list[tuple[datetime, Finding]]] = defaultdict(list)
    for hour, finding in findings:
        by_key[((finding.signal_type, finding.dimension, finding.dim_value), finding.kind)].append(
            (hour, finding)
        )
    found: list[Incident] = []
    for (series, kind), hours in by_key.items():
        hours.sort(key=lambda pair: pair[0])
        group: list[tuple[datetime, Finding]] = []
        for hour, finding in hours:
            if group and hour - group[-1][0] > merge_gap + HOUR:
                found.append(_incident(series, kind, group))
                group = []
            group.append((hour, finding))
        if group:
            found.append(_incident(series, kind, group))
    found.sort(key=lambda i: (i.start, i.series, i.kind))
    return found


def _incident(series: Series, kind: str, group: list[tuple[datetime, Finding]]) -> Incident:
    peak = max((f.score for _, f in group), key=abs)
    expected = next((f.expected for _, f in group if f.expected), None)
    return Incident(series, kind, group[0][0], group[-1][0], peak, expected, len({h for h, _ in group}))

"""The detector as it was before issue #13, kept so bench/anomalies.py can show old and new
side by side: a pure function of hourly counts.

The baseline of an hour is the same hour of the week in the previous N weeks, so a
weekly rhythm (Monday-morning report peaks) is its own baseline and never alerts. The
median and the median absolute deviation (MAD) keep one odd week from moving it; a
Poisson floor (sqrt of the median) keeps small counts from alerting on noise.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflows.config import VigilConfig

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
MAD_SCALE = 1.4826  # MAD → standard deviation for normally distributed noise

Series = tuple[str, str, str]  # signal type, dimension ('' overall), value


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Finding:
    signal_type: str
    dimension: str
    dim_value: str
    kind: str
    observed: float
    baseline: float
    score: float
    data: dict[str, Any]

    @property
    def key_part(self) -> str:
        return f"{self.signal_type}|{self.dimension}|{self.dim_value}|{self.kind}"


def robust_score(observed: float, history: list[float]) -> tuple[float, float, float]:
    """(median, scale, score): how many robust standard deviations ``observed`` is off."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    scale = max(MAD_SCALE * mad, math.sqrt(max(median, 1.0)))
    return median, scale, (observed - median) / scale


def find_anomalies(
    counts: dict[Series, dict[datetime, float]],
    first_seen: dict[str, datetime],
    hour: datetime,
    config: VigilConfig,
) -> list[Finding]:
    """Pure detection over hourly counts: testable without a database."""
    settings = config.signals.anomalies
    weeks = [hour - WEEK * k for k in range(1, settings.baseline_weeks + 1)]
    findings: list[Finding] = []
    by_type: dict[str, list[Series]] = defaultdict(list)
    for series in counts:
        by_type[series[0]].append(series)
    for kind, all_series in sorted(by_type.items()):
        start = first_seen.get(kind)
        history_weeks = [w for w in weeks if start is not None and w >= start]
        if len(history_weeks) < settings.min_weeks:
            continue  # too young to have a baseline: no verdict rather than a wrong one
        new_tops = new_contributors(counts, all_series, hour, history_weeks, config)
        for series in sorted(all_series):
            _, dimension, value = series
            points = counts[series]
            observed = points.get(hour, 0.0)
            history = [points.get(w, 0.0) for w in history_weeks]
            median, scale, score = robust_score(observed, history)
            data = {
                "history": history,
                "weeks": len(history_weeks),
                "scale": round(scale, 3),
            }
            if series in new_tops:
                findings.append(
                    Finding(
                        kind,
                        dimension,
                        value,
                        "new_contributor",
                        observed,
                        median,
                        score,
                        {**data, **new_tops[series]},
                    )
                )
            elif score >= settings.threshold and observed >= settings.min_count:
                findings.append(Finding(kind, dimension, value, "spike", observed, median, score, data))
            elif score <= -settings.threshold and median >= settings.min_drop_baseline:
                findings.append(Finding(kind, dimension, value, "drop", observed, median, score, data))
    return findings


def new_contributors(
    counts: dict[Series, dict[datetime, float]],
    all_series: list[Series],
    hour: datetime,
    weeks: list[datetime],
    config: VigilConfig,
) -> dict[Series, dict[str, Any]]:
    """Values that lead their dimension now but were never among its top N in the baseline hours."""
    settings = config.signals.anomalies
    by_dim: dict[str, list[Series]] = defaultdict(list)
    for series in all_series:
        if series[1]:
            by_dim[series[1]].append(series)

    def top(dim_series: list[Series], at: datetime) -> list[Series]:
        ranked = sorted(
            (s for s in dim_series if counts[s].get(at, 0.0) > 0), key=lambda s: (-counts[s].get(at, 0.0), s)
        )
        return ranked[: settings.top_n]

    found: dict[Series, dict[str, Any]] = {}
    for dim_series in by_dim.values():
        total = sum(counts[s].get(hour, 0.0) for s in dim_series)
        if total <= 0:
            continue
        before = {s for w in weeks for s in top(dim_series, w)}
        for series in top(dim_series, hour):
            observed = counts[series].get(hour, 0.0)
            share = observed / total
            if series not in before and share >= settings.top_share and observed >= settings.min_count:
                found[series] = {"share": round(share, 3), "previous_top": sorted({s[2] for s in before})}
    return found

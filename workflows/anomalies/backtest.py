"""The backtest: the live detector replayed hour by hour over the stored hourly rollups, posting
and storing nothing, so a team sees the incidents a config would have raised before adopting it.

The rollups of the whole range are read once; each judged hour then uses only counts before
it (and its own), exactly as the live run at that hour would have (detect.Detector).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import signals as signal_store
from store.db import Database
from workflows.anomalies.detect import HOUR, WEEK, Detector, Series, hour_of, window_start
from workflows.anomalies.episodes import Incident, incidents
from workflows.config import VigilConfig

# The detector's internal name for a tactic shift, as the backtest's contract spells it.
OUTPUT_KINDS = {"spike": "spike", "drop": "drop", "new_contributor": "new_top_contributor"}


@dataclass(frozen=True)
class Backtest:
    since: datetime
    until: datetime
    hours: int  # hours judged
    series: int  # series seen in the range and its baseline
    incidents: list[Incident]

    @property
    def weeks(self) -> float:
        return (self.until - self.since) / WEEK

    def summary(self) -> str:
        per = len(self.incidents) / self.series / self.weeks if self.series and self.weeks else 0.0
        return (
            f"{len(self.incidents)} incident(s) over {self.weeks:.1f} week(s) and {self.series} series: "
            f"{per:.3f} incident(s) per series per week"
        )


def as_json(incident: Incident) -> dict[str, Any]:
    signal_type, dimension, value = incident.series
    return {
        "series": {
            "type": signal_type,
            "attribute": dimension or None,
            "value": value if dimension else None,
        },
        "kind": OUTPUT_KINDS.get(incident.kind, incident.kind),
        "start": _iso(incident.start),
        "end": _iso(incident.end),
        "peak_score": round(incident.peak_score, 2),
        "expected": incident.expected,
    }


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:00:00Z")


def replay(
    counts: dict[Series, dict[datetime, float]],
    first_seen: dict[str, datetime],
    config: VigilConfig,
    since: datetime,
    until: datetime,
) -> tuple[int, list[Incident]]:
    """(hours judged, incidents) of the hours from ``since`` (inclusive) to ``until`` (exclusive)."""
    detector = Detector(counts, first_seen, config)
    hour = hour_of(since)
    if hour < since:
        hour += HOUR
    judged = 0
    found = []
    while hour < until:
        found += [(hour, finding) for finding in detector.judge(hour)]
        judged += 1
        hour += HOUR
    return judged, incidents(found, config.signals.anomalies.merge_gap)


def backtest(db: Database, config: VigilConfig, since: datetime, until: datetime) -> Backtest:
    counts: dict[Series, dict[datetime, float]] = defaultdict(dict)
    first_seen: dict[str, datetime] = {}
    with db.read() as session:
        for signal_type, dimension, dim_value, bucket, count in signal_store.rollup_counts_between(
            session, window_start(since, config), until
        ):
            if bucket < until:
                counts[(signal_type, dimension, dim_value)][bucket] = float(count)
        for kind in {series[0] for series in counts}:
            start = signal_store.first_rollup_hour(session, kind)
            if start is not None:
                first_seen[kind] = start
    hours, found = replay(counts, first_seen, config, since, until)
    return Backtest(since, until, hours, len(counts), found)

"""Anomaly detection quality: labelled synthetic series at three volumes, judged hour by hour
by the detector as it was before issue #13 (bench/legacy_detector.py) and by the current one.

    python -m bench.anomalies [--quick] [--weeks 16] [--seeds 3]

Each series is one signal type ("report") overall and per reason, with a weekly and daily
rhythm, a slow trend, a level shift (+50% from one day on), quiet public holidays and
negative-binomial noise (variance mu + 0.01·mu²: Poisson-like at 10 an hour, ±10% at
100,000). Planted on top, at known hours: spikes (+8 standard deviations of the hour's noise,
1 to 6 hours), drops (to 10% of the usual, 2 to 8 hours; not at ~10 an hour, where even an outage
is within the hourly noise) and new top contributors (a reason never seen before taking a
third of the hour, 2 to 6 hours). The absolute thresholds (min_count, min_drop_baseline) are
scaled with the volume, as in the x100 test; the holidays are in signals.calendar.

Measured per volume, old and new in the same run:
- recall: planted anomalies with at least one finding of their kind during them;
- false-positive hours and incidents per series per 4 weeks: findings (incidents, after
  merge_gap) outside every planted anomaly and the first two days after the level shift;
- incidents per series per 4 weeks: everything a channel would have been told;
- median detection delay: hours from an anomaly's start to its first finding;
- time per judged hour (all series).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from bench import legacy_detector
from tests.harness.world import config_data
from workflows.anomalies.detect import Detector, Finding, Series
from workflows.anomalies.episodes import incidents
from workflows.config import VigilConfig, parse_config

HOUR = timedelta(hours=1)
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
VOLUMES = (10, 1_000, 100_000)
ALPHA = 0.01  # negative-binomial over-dispersion: variance = mu + ALPHA·mu²
REASONS = {"spam": 0.4, "harassment": 0.3, "scam": 0.2, "impersonation": 0.1}
NEW_REASON = "crypto_giveaway"
BASELINE_WEEKS = 4
SHIFT_GRACE = timedelta(days=2)  # a level shift may alert at first; after that it is noise
AFTER_GRACE = timedelta(hours=3)  # the hours just after an anomaly still belong to it


@dataclass(frozen=True)
class Planted:
    kind: str  # spike, drop, new_contributor
    start: datetime
    hours: int

    @property
    def end(self) -> datetime:
        return self.start + HOUR * self.hours


@dataclass
class History:
    volume: int
    counts: dict[Series, dict[datetime, float]]
    planted: list[Planted]
    holidays: dict[date, str]
    shift_at: datetime
    judged_from: datetime
    until: datetime


def rhythm(at: datetime) -> float:
    daily = 0.45 + 0.55 * (1 - np.cos(2 * np.pi * ((at.hour - 4) % 24) / 24))  # low at 04:00
    weekly = 0.7 if at.weekday() >= 5 else 1.0
    return float(daily * weekly)


def generate(volume: int, weeks: int, seed: int) -> History:
    """One labelled history of ``weeks`` weeks at about ``volume`` signals an hour."""
    rng = np.random.default_rng(seed)
    until = START + timedelta(weeks=weeks)
    judged_from = START + timedelta(weeks=BASELINE_WEEKS)
    span = (until - START) / HOUR
    shift_at = judged_from + timedelta(weeks=(weeks - BASELINE_WEEKS) // 2, hours=int(rng.integers(0, 24)))
    holidays = {}
    for k in range(BASELINE_WEEKS, weeks, 3):  # a quiet holiday every three weeks, on a weekday
        day = (START + timedelta(weeks=k, days=int(rng.integers(0, 5)))).date()
        holidays[day] = f"Holiday {len(holidays) + 1}"
    planted = plant(rng, volume, judged_from, until, shift_at, set(holidays))

    def base(at: datetime) -> float:
        level = volume * rhythm(at) * (1 + 0.2 * ((at - START) / HOUR) / span)
        if at >= shift_at:
            level *= 1.5
        if at.date() in holidays:
            level *= 0.5
        return level

    counts: dict[Series, dict[datetime, float]] = {("report", "", ""): {}}
    for reason in REASONS:
        counts[("report", "reason", reason)] = {}
    for n, p in enumerate(planted):  # each tactic shift is a reason never seen before
        if p.kind == "new_contributor":
            counts[("report", "reason", f"{NEW_REASON}_{n}")] = {}
    at = START
    while at < until:
        mu = base(at)
        sd = np.sqrt(mu + ALPHA * mu * mu)
        factor, extra, new_reason = 1.0, 0.0, ""
        for index, p in enumerate(planted):
            if p.start <= at < p.end:
                if p.kind == "spike":
                    factor = 1 + 8 * sd / mu
                elif p.kind == "drop":
                    factor = 0.1
                else:
                    extra, new_reason = 0.5 * mu, f"{NEW_REASON}_{index}"
        total = 0.0
        for reason, share in REASONS.items():
            n = noise(rng, mu * share * factor)
            counts[("report", "reason", reason)][at] = n
            total += n
        if extra:
            n = noise(rng, extra)
            counts[("report", "reason", new_reason)][at] = n
            total += n
        counts[("report", "", "")][at] = total
        at += HOUR
    return History(volume, counts, planted, holidays, shift_at, judged_from, until)


def noise(rng: np.random.Generator, mu: float) -> float:
    if mu <= 0:
        return 0.0
    n = 1 / ALPHA
    return float(rng.negative_binomial(n, n / (n + mu)))


def plant(
    rng: np.random.Generator,
    volume: int,
    start: datetime,
    until: datetime,
    shift_at: datetime,
    holidays: set[date],
) -> list[Planted]:
    """About two spikes, one or two drops and one new top contributor a week, apart from each
    other, the holidays and the level shift's first days."""
    kinds = ["spike", "spike", "new_contributor"] + (["drop"] if volume >= 100 else [])
    planted: list[Planted] = []
    hours = int((until - start) / HOUR) - 24
    busy: list[tuple[datetime, datetime]] = [(shift_at - HOUR * 12, shift_at + SHIFT_GRACE)]
    busy += [
        (
            datetime.combine(d, datetime.min.time(), UTC) - HOUR * 12,
            datetime.combine(d, datetime.min.time(), UTC) + HOUR * 36,
        )
        for d in holidays
    ]
    weeks = (until - start).days // 7
    for n in range(weeks * 5):
        kind = kinds[n % len(kinds)]
        length = {"spike": (1, 6), "drop": (2, 8), "new_contributor": (2, 6)}[kind]
        for _ in range(50):
            at = start + HOUR * int(rng.integers(24, hours))
            p = Planted(kind, at, int(rng.integers(length[0], length[1] + 1)))
            margin = timedelta(hours=24)
            if all(p.end + margin <= a or b + margin <= p.start for a, b in busy):
                planted.append(p)
                busy.append((p.start, p.end))
                break
    return sorted(planted, key=lambda p: p.start)


def bench_config(history: History) -> VigilConfig:
    data = config_data()
    scale = history.volume / 1000  # the thresholds of a 1,000-an-hour series, scaled
    data.setdefault("signals", {})["dimensions"] = ["reason"]
    data["signals"]["anomalies"] = {
        "baseline_weeks": BASELINE_WEEKS,
        "min_count": max(1, round(10 * scale)),
        "min_drop_baseline": max(1.0, 20 * scale),
    }
    data["signals"]["calendar"] = {"dates": {d.isoformat(): label for d, label in history.holidays.items()}}
    return parse_config(data)


Judge = Callable[[datetime], list[Finding]]


def run(history: History, detector: str) -> dict[str, float]:
    config = bench_config(history)
    first = {"report": START}
    if detector == "new":
        judge: Judge = Detector(history.counts, first, config).judge
    else:

        def judge(hour: datetime) -> list[Finding]:
            return [
                Finding(
                    f.signal_type, f.dimension, f.dim_value, f.kind, f.observed, f.baseline, f.score, f.data
                )
                for f in legacy_detector.find_anomalies(history.counts, first, hour, config)
            ]

    found: list[tuple[datetime, Finding]] = []
    hour = history.judged_from
    judged = 0
    started = time.perf_counter()
    while hour < history.until:
        found += [(hour, f) for f in judge(hour)]
        judged += 1
        hour += HOUR
    elapsed = time.perf_counter() - started

    def explained(at: datetime, end: datetime | None = None) -> bool:
        end = end or at
        if history.shift_at <= end and at < history.shift_at + SHIFT_GRACE:
            return True
        return any(p.start <= end and at < p.end + AFTER_GRACE for p in history.planted)

    detected, delays = 0, []
    for p in history.planted:
        hits = sorted(h for h, f in found if f.kind == p.kind and p.start <= h < p.end)
        if hits:
            detected += 1
            delays.append((hits[0] - p.start) / HOUR)
    series = 1 + len(REASONS)  # the planted new reasons are not series of their own
    per_4_weeks = series * judged / (24 * 28)
    episodes = incidents(found, config.signals.anomalies.merge_gap)
    return {
        "recall": detected / len(history.planted),
        "fp_hours": len({(h, f.key_part) for h, f in found if not explained(h)}) / per_4_weeks,
        "fp_incidents": sum(not explained(i.start, i.end) for i in episodes) / per_4_weeks,
        "incidents": len(episodes) / per_4_weeks,
        "delay": statistics.median(delays) if delays else float("nan"),
        "ms_per_hour": 1000 * elapsed / judged,
    }


def measure(weeks: int, seeds: int) -> dict[tuple[int, str], dict[str, float]]:
    results: dict[tuple[int, str], dict[str, float]] = {}
    for volume in VOLUMES:
        runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for seed in range(seeds):
            history = generate(volume, weeks, seed)
            for detector in runs:
                runs[detector].append(run(history, detector))
        for detector, values in runs.items():
            results[(volume, detector)] = {k: statistics.fmean(v[k] for v in values) for k in values[0]}
    return results


def bench_backtest(weeks: int = 56) -> dict[str, float]:
    """`vigil anomalies backtest` over ``weeks`` weeks of stored hourly rollups (SQLite) of six
    series at 1,000 an hour: the last year judged hour by hour."""
    import tempfile
    from pathlib import Path

    from bench.signals import fresh_db
    from workflows.anomalies.backtest import backtest

    history = generate(1000, weeks, seed=11)
    with tempfile.TemporaryDirectory() as folder:
        db = fresh_db(Path(folder), "backtest.db")
        rows = [
            (at.strftime("%Y-%m-%d %H:%M:%S.000000"), t, d, v, int(c), float(c))
            for (t, d, v), points in history.counts.items()
            for at, c in points.items()
            if c > 0
        ]
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO signal_rollups (bucket, signal_type, dimension, dim_value, count, value_sum) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        started = time.perf_counter()
        result = backtest(db, bench_config(history), history.until - timedelta(weeks=52), history.until)
        elapsed = time.perf_counter() - started
        db.dispose()
    return {
        "seconds": elapsed,
        "hours": result.hours,
        "series": result.series,
        "incidents": len(result.incidents),
    }


TARGETS = {
    "recall": ("≥ 0.9", "planted anomalies found while under way"),
    "fp_incidents": ("≤ 1", "false-positive incidents per series per 4 weeks"),
    "fp_hours": ("", "false-positive hours per series per 4 weeks"),
    "incidents": ("", "incidents per series per 4 weeks"),
    "delay": ("", "median detection delay, hours"),
    "ms_per_hour": ("", "milliseconds per judged hour (5 series)"),
}


def figures(quick: bool = False) -> list[dict[str, Any]]:
    """For `python -m bench`: one row per measure and volume, the old detector as baseline."""
    results = measure(weeks=10 if quick else 16, seeds=1 if quick else 3)
    rows = []
    for volume in VOLUMES:
        old, new = results[(volume, "old")], results[(volume, "new")]
        for key, (target, note) in TARGETS.items():
            rows.append(
                {
                    "measure": f"anomalies {key} @{volume:,}/h",
                    "baseline": round(old[key], 3),
                    "now": round(new[key], 3),
                    "target": target or "same ±10% at every volume",
                    "note": note,
                }
            )
    year = bench_backtest()
    rows.append(
        {
            "measure": f"backtest of a year ({year['hours']:,} hours, {year['series']} series, SQLite), s",
            "baseline": None,
            "now": round(year["seconds"], 2),
            "target": "< 60",
            "note": "vigil anomalies backtest: rollups read once, every hour judged",
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    weeks, seeds = (10, 1) if args.quick else (args.weeks, args.seeds)
    results = measure(weeks, seeds)
    print(f"{weeks} weeks ({weeks - BASELINE_WEEKS} judged), {seeds} seed(s) per volume")
    print(f"{'volume':>8} {'detector':8} " + " ".join(f"{k:>12}" for k in TARGETS))
    for (volume, detector), values in results.items():
        print(f"{volume:>8} {detector:8} " + " ".join(f"{values[k]:>12.3f}" for k in TARGETS))
    print(json.dumps({f"{v}/{d}": r for (v, d), r in results.items()}))
    if not args.quick:
        print("backtest of a year:", json.dumps(bench_backtest()))


if __name__ == "__main__":
    main()

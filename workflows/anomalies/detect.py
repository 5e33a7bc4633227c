"""The detector: a pure function of hourly counts, testable without a database.

An hour's expectation is its *profile* (the median of the same hour of the week in the
baseline weeks, so a weekly rhythm is its own baseline and never alerts) scaled by the
series' recent *level* (the last two days against their own profile), so a sustained shift
stops alerting within about a day while a spike on top of it still does. The score divides
the difference by a spread fitted per series on its own baseline window (scoring.py), which
makes verdicts the same at any volume. Expected days (expected.py) need a louder score.

``Detector`` keeps what it computed (profiles, spreads) so the backtest can replay months
hour by hour; each value depends only on counts before the hour it serves, so the live run
(a fresh ``Detector`` per hour) and the replay give the same verdicts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows.anomalies.expected import Calendar
from workflows.anomalies.scoring import Spread, fit_spread, score, weighted_median
from workflows.config import VigilConfig

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
LEVEL_HOURS = 48  # the recent level: the last two ordinary days
LEVEL_LOOKBACK = 24 * 7  # ...looking back at most a week past expected days

Series = tuple[str, str, str]  # signal type, dimension ('' overall), value


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def window_start(hour: datetime, config: VigilConfig) -> datetime:
    """The first hour whose count the verdict on ``hour`` can depend on."""
    weeks = config.signals.anomalies.baseline_weeks
    return hour - WEEK * weeks - HOUR * LEVEL_LOOKBACK - DAY


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
    expected: str | None = None

    @property
    def key_part(self) -> str:
        return f"{self.signal_type}|{self.dimension}|{self.dim_value}|{self.kind}"


def hour_index(at: datetime) -> int:
    """Hours since the epoch: the detector's keys (cheap to hash and to step, unlike datetimes)."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)  # the store's hours are UTC
    return int(aware.timestamp()) // 3600


def hour_at(index: int) -> datetime:
    return datetime.fromtimestamp(index * 3600, UTC)


H_WEEK = 168
H_DAY = 24


class Detector:
    """Judges hours of the series in ``counts`` (missing hours count zero)."""

    def __init__(
        self,
        counts: dict[Series, dict[datetime, float]],
        first_seen: dict[str, datetime],
        config: VigilConfig,
    ) -> None:
        self.config = config
        self.settings = config.signals.anomalies
        self.calendar = Calendar(config.signals.calendar, config.tz)
        self.points: dict[Series, dict[int, float]] = {
            series: {hour_index(at): c for at, c in points.items()} for series, points in counts.items()
        }
        self._active = {
            series: sorted(h for h, c in points.items() if c) for series, points in self.points.items()
        }
        self.first_seen = {kind: hour_index(at) for kind, at in first_seen.items()}
        self.by_type: dict[str, list[Series]] = defaultdict(list)
        for series in sorted(counts):
            self.by_type[series[0]].append(series)
        self._profiles: dict[tuple[Series, int], tuple[float, int]] = {}
        self._spreads: dict[tuple[Series, int], Spread] = {}
        self._labels: dict[int, str | None] = {}
        self._day_totals: dict[tuple[Series, int], float] = {}
        self._pairs: dict[Series, dict[int, tuple[float, float] | None]] = defaultdict(dict)
        self._no_calendar = self.calendar.empty
        self._window = int((WEEK * self.settings.baseline_weeks + HOUR * LEVEL_LOOKBACK + DAY) / HOUR)

    # the pieces ----------------------------------------
    def label(self, at: int) -> str | None:
        """The expected event of the hour's day, if any."""
        if self._no_calendar:
            return None
        if at not in self._labels:
            self._labels[at] = self.calendar.label(hour_at(at))
        return self._labels[at]

    def weeks(self, series: Series, at: int) -> list[int]:
        """The same hour of the week in the baseline weeks the type has history for."""
        start = self.first_seen.get(series[0])
        if start is None:
            return []
        return [w for k in range(1, self.settings.baseline_weeks + 1) if (w := at - H_WEEK * k) >= start]

    def quiet(self, series: Series, hour: int) -> bool:
        """Nothing counted in the whole window the verdict could read: nothing to say."""
        active = self._active[series]
        first = bisect_left(active, hour - self._window)
        return first >= len(active) or active[first] > hour

    def profile(self, series: Series, at: int) -> tuple[float, int]:
        """(median of the same hour in the baseline weeks, how many weeks)."""
        key = (series, at)
        cached = self._profiles.get(key)
        if cached is None:
            points = self.points[series]
            values = sorted(points.get(w, 0.0) for w in self.weeks(series, at))
            n = len(values)
            if n == 0:
                cached = (0.0, 0)
            else:
                mid = n // 2
                cached = (values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2, n)
            self._profiles[key] = cached
        return cached

    def level(self, series: Series, hour: int) -> float:
        """How the last two ordinary days ran against their profile: the weighted median of
        count/profile over their hours, weighted by the profile (robust to a few odd hours,
        and to low counts). Expected days are skipped: a holiday does not lower tomorrow."""
        start = self.first_seen.get(series[0])
        if start is None:
            return 1.0
        pairs: list[tuple[float, float]] = []
        known = self._pairs[series]
        for at in range(hour - 1, max(hour - 1 - LEVEL_LOOKBACK, start - 1), -1):
            pair = known[at] if at in known else self._pair(series, at)
            if pair is not None:
                pairs.append(pair)
                if len(pairs) >= LEVEL_HOURS:
                    break
        ratio = weighted_median(pairs)
        return 1.0 if ratio is None else ratio

    def _pair(self, series: Series, at: int) -> tuple[float, float] | None:
        """(count / profile, profile) of an ordinary hour with a profile; None otherwise."""
        pair = None
        if self.label(at) is None:
            expected, n = self.profile(series, at)
            if n and expected > 0:
                pair = (self.points[series].get(at, 0.0) / expected, expected)
        self._pairs[series][at] = pair
        return pair

    def week_total(self, series: Series, hour: int) -> float:
        """The series' count over the seven days before the judged hour's day and that day's
        hours before it (daily totals kept: the backtest asks for every hour)."""
        points = self.points[series]
        day = hour - hour % H_DAY
        total = sum(points.get(at, 0.0) for at in range(day, hour))
        for k in range(1, 8):
            key = (series, day - H_DAY * k)
            if key not in self._day_totals:
                self._day_totals[key] = sum(points.get(at, 0.0) for at in range(key[1], key[1] + H_DAY))
            total += self._day_totals[key]
        return total

    def week_share(self, series: Series, dim_series: list[Series], hour: int) -> float:
        """The value's share of its dimension over about the last week."""
        total = sum(self.week_total(s, hour) for s in dim_series)
        return self.week_total(series, hour) / total if total > 0 else 0.0

    def spread(self, series: Series, hour: int) -> Spread:
        """The series' noise, fitted on the baseline weeks before the judged hour's day (one
        fit a day): each same-hour value against the median of the other weeks' values, each
        week first scaled to the median week so a trend or an old shift is not taken for noise."""
        day = hour - hour % H_DAY
        key = (series, day)
        cached = self._spreads.get(key)
        if cached is not None:
            return cached
        weeks = self.weeks(series, day)
        points = self.points[series]
        samples: list[tuple[float, float]] = []
        if len(weeks) >= 2:
            grid = [[points.get(w + slot, 0.0) for slot in range(H_WEEK)] for w in weeks]
            totals = [sum(row) for row in grid]
            typical = sorted(totals)[len(totals) // 2]
            rows = [
                [v * (typical / t) for v in row] if t > 0 else row
                for row, t in zip(grid, totals, strict=True)
            ]
            for slot in range(H_WEEK):
                column = [row[slot] for row in rows]
                for i, value in enumerate(column):
                    rest = sorted(column[:i] + column[i + 1 :])
                    mid = len(rest) // 2
                    m = rest[mid] if len(rest) % 2 else (rest[mid - 1] + rest[mid]) / 2
                    samples.append((value - m, m))
        cached = fit_spread(samples, max(len(weeks) - 1, 1))
        self._spreads[key] = cached
        return cached

    # verdicts ----------------------------------------
    def judge(self, when: datetime) -> list[Finding]:
        settings = self.settings
        hour = hour_index(when)
        findings: list[Finding] = []
        label = self.label(hour)
        threshold = settings.threshold * (self.config.signals.calendar.holiday_factor if label else 1.0)
        for kind, all_series in sorted(self.by_type.items()):
            history_weeks = self.weeks(all_series[0], hour)
            if len(history_weeks) < settings.min_weeks:
                continue  # too young to have a baseline: no verdict rather than a wrong one
            live = [s for s in all_series if not self.quiet(s, hour)]
            new_tops = new_contributors(self.points, live, hour, history_weeks, self.config, self.week_share)
            for series in live:
                _, dimension, value = series
                observed = self.points[series].get(hour, 0.0)
                profile, n = self.profile(series, hour)
                ratio = self.level(series, hour)
                mu = profile * ratio
                spread = self.spread(series, hour)
                scale, z = score(observed, mu, spread, n)
                data = {
                    "history": [self.points[series].get(w, 0.0) for w in self.weeks(series, hour)],
                    "profile": round(profile, 3),
                    "level": round(ratio, 3),
                    "weeks": n,
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
                            mu,
                            z,
                            {**data, **new_tops[series]},
                            label,
                        )
                    )
                elif z >= threshold and observed >= settings.min_count:
                    findings.append(Finding(kind, dimension, value, "spike", observed, mu, z, data, label))
                elif z <= -threshold and mu >= settings.min_drop_baseline:
                    findings.append(Finding(kind, dimension, value, "drop", observed, mu, z, data, label))
        return findings


def find_anomalies(
    counts: dict[Series, dict[datetime, float]],
    first_seen: dict[str, datetime],
    hour: datetime,
    config: VigilConfig,
) -> list[Finding]:
    """Pure detection of one hour over hourly counts (from ``window_start(hour)`` on)."""
    return Detector(counts, first_seen, config).judge(hour)


WeekShare = Callable[[Series, list[Series], Any], float]


def new_contributors(
    counts: Mapping[Series, Mapping[Any, float]],
    all_series: list[Series],
    hour: Any,
    weeks: list[Any],
    config: VigilConfig,
    week_share: WeekShare | None = None,
) -> dict[Series, dict[str, Any]]:
    """Values that lead their dimension now but were never among its top N in the baseline
    hours, nor a real part of it over the last week (``week_share`` of at least a quarter of
    ``top_share``): at small counts the ranks of four hours are noise, and a value that has
    been a tenth of the reports all week is no tactic shift."""
    settings = config.signals.anomalies
    by_dim: dict[str, list[Series]] = defaultdict(list)
    for series in all_series:
        if series[1]:
            by_dim[series[1]].append(series)

    def top(dim_series: list[Series], at: Any) -> list[Series]:
        ranked = sorted(
            (s for s in dim_series if counts[s].get(at, 0.0) > 0), key=lambda s: (-counts[s].get(at, 0.0), s)
        )
        return ranked[: settings.top_n]

    found: dict[Series, dict[str, Any]] = {}
    for dim_series in by_dim.values():
        total = sum(counts[s].get(hour, 0.0) for s in dim_series)
        if total <= 0:
            continue
        leaders = [
            s
            for s in top(dim_series, hour)
            if counts[s].get(hour, 0.0) / total >= settings.top_share
            and counts[s].get(hour, 0.0) >= settings.min_count
        ]
        if not leaders:
            continue
        before = {s for w in weeks for s in top(dim_series, w)}
        for series in leaders:
            if series in before:
                continue
            if week_share is not None and week_share(series, dim_series, hour) >= settings.top_share / 4:
                continue
            found[series] = {
                "share": round(counts[series].get(hour, 0.0) / total, 3),
                "previous_top": sorted({s[2] for s in before}),
            }
    return found

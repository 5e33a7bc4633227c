"""Hourly count series for the detector's stories: a daily and weekly rhythm, seeded
over-dispersed noise (gamma-Poisson, so each series has more spread than Poisson), and
whatever a story plants on top."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from workflows.anomalies.detect import Series

HOUR = timedelta(hours=1)
START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
OVERALL: Series = ("report", "", "")


def usual(at: datetime, level: float) -> float:
    daily = 0.5 + 0.5 * (1 - math.cos(2 * math.pi * ((at.hour - 4) % 24) / 24))
    return level * daily * (0.7 if at.weekday() >= 5 else 1.0)


def poisson(rng: random.Random, mu: float) -> int:
    if mu <= 0:
        return 0
    if mu > 50:  # normal approximation: exact enough, and fast
        return max(0, round(rng.gauss(mu, math.sqrt(mu))))
    limit, k, p = math.exp(-mu), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def counts(
    weeks: int,
    level: float = 200.0,
    seed: int = 1,
    factor: Callable[[datetime], float] = lambda at: 1.0,
    scale: float = 1.0,
) -> dict[datetime, float]:
    """``weeks`` weeks of hourly counts from START; ``factor`` plants shifts and spikes;
    ``scale`` multiplies every count after the noise is drawn (the x100 story)."""
    rng = random.Random(seed)
    out: dict[datetime, float] = {}
    at = START
    for _ in range(weeks * 7 * 24):
        mu = usual(at, level) * factor(at) * rng.gammavariate(100, 1 / 100)  # ±10% over-dispersion
        out[at] = float(poisson(rng, mu)) * scale
        at += HOUR
    return out

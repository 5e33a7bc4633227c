"""The numbers behind a verdict, pure and scale-free (see docs/anomalies.md).

- the *profile* of an hour is the median of the same hour of the week in the baseline weeks;
- the *level* is how the last two days compare with their own profile (a weighted median of
  ratios), so a sustained shift becomes the new normal within about a day;
- the *spread* is a variance ``phi·mu + a·mu²`` fitted per series on its own baseline window
  (quasi-Poisson at small counts, a constant relative spread at large ones), never under the
  Poisson variance nor under a small fraction of the level.

Multiplying a series by any factor multiplies ``mu`` by it and ``phi`` by it, leaves ``a``
alone, and so leaves every score as it was (away from the Poisson floor, which only binds at
counts of a few per hour).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_SCALE = 1.4826  # median absolute deviation → standard deviation for normal noise
REL_FLOOR = 0.03  # a series' spread is never taken as under 3% of its level


def median_variance(n: int) -> float:
    """Variance of the median of ``n`` noisy values, relative to one value's (π/2n for large n;
    exact for 1 and 2, a little generous in between)."""
    if n <= 2:
        return 1.0 / max(n, 1)
    return math.pi / (2 * n)


def weighted_median(pairs: Sequence[tuple[float, float]]) -> float | None:
    """The value at half the total weight of (value, weight) pairs; None without weight."""
    total = sum(w for _, w in pairs if w > 0)
    if total <= 0:
        return None
    half = total / 2
    running = 0.0
    for value, weight in sorted((v, w) for v, w in pairs if w > 0):
        running += weight
        if running >= half:
            return value
    return None  # unreachable: the running weight reaches the total


@dataclass(frozen=True)
class Spread:
    """Var(count) ≈ phi·mu + a·mu² for this series."""

    phi: float = 1.0
    a: float = 0.0

    def variance(self, mu: float, observed: float | None = None) -> float:
        """The variance of a count expected at ``mu``. Given the count observed above it, the
        count-like part is taken a quarter of the way up to it: at a few per hour the expectation itself is
        uncertain, and 12 where 2 were usual is far likelier from a true 4 than from a true 2."""
        rate = mu if observed is None else max(mu, mu + (observed - mu) / 4)
        fitted = self.phi * rate + self.a * mu * mu
        return max(fitted, max(rate, 1.0), (REL_FLOOR * mu) ** 2)


def fit_spread(samples: Sequence[tuple[float, float]], others: int) -> Spread:
    """Fit ``phi`` and ``a`` from (difference to the median of the ``others`` same-hour values,
    that median) pairs. Hours are split at the median level: the low half tells the Poisson-like
    part, the high half how the spread grows with the level. Robust (medians of |z|), so a
    holiday or an incident in the window barely moves it."""
    points = [(d, m) for d, m in samples if m > 0]
    if len(points) < 8:
        return Spread()
    inflate = 1.0 + median_variance(others)
    points.sort(key=lambda p: p[1])
    half = len(points) // 2
    low, high = points[:half], points[half:]

    def var_and_level(part: list[tuple[float, float]]) -> tuple[float, float]:
        z = [abs(d) / math.sqrt(m * inflate) for d, m in part]
        scale = MAD_SCALE * statistics.median(z)
        return scale * scale, statistics.fmean(m for _, m in part)

    v_low, mu_low = var_and_level(low)
    v_high, mu_high = var_and_level(high)
    a = 0.0
    if mu_high > 1.5 * mu_low:
        a = max(0.0, (v_high - v_low) / (mu_high - mu_low))
    else:  # a flat series: one pooled dispersion
        v_low = (v_low + v_high) / 2
    phi = max(v_low - a * mu_low, 0.0)
    if phi == 0.0 and a == 0.0:
        return Spread(0.0, 0.0)  # a series without noise: only the floors apply
    return Spread(phi, a)


def score(observed: float, mu: float, spread: Spread, weeks: int) -> tuple[float, float]:
    """(scale, score): standard deviations of ``observed`` off ``mu``, counting the noise of
    the baseline itself (a median of ``weeks`` values)."""
    scale = math.sqrt(spread.variance(mu, observed) * (1.0 + median_variance(weeks)))
    return scale, (observed - mu) / scale

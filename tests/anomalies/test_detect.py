"""The statistics behind an alert, without a database: a spread fitted on the series' own noise,
a Poisson floor for small counts, the recent level, and what counts as a new top value."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest

from tests.harness.world import MONDAY, config_data
from workflows.anomalies.detect import Series, new_contributors
from workflows.anomalies.scoring import REL_FLOOR, Spread, fit_spread, median_variance, score, weighted_median
from workflows.config import VigilConfig, parse_config

HOUR = MONDAY - timedelta(hours=1)
WEEKS = [HOUR - timedelta(weeks=k) for k in range(1, 5)]


def test_the_score_counts_standard_deviations_of_the_fitted_spread() -> None:
    spread = Spread(phi=4.0, a=0.0)  # four times Poisson
    scale, z = score(1300.0, 1000.0, spread, weeks=1)
    # A quarter of the way up to what was seen (the usual level is itself uncertain), and the
    # baseline's own noise (a "median" of one week) doubling the variance.
    assert scale == pytest.approx(math.sqrt(4.0 * 1075 * 2))
    assert z == pytest.approx(300 / scale)


def test_small_counts_are_judged_against_poisson_noise_not_a_zero_spread() -> None:
    # A series without any noise has no spread at all; 4 → 9 is still only noise-sized.
    assert Spread(0.0, 0.0).variance(4.0) == 4.0
    # Even an empty baseline has a floor of one: a single event is not infinitely surprising.
    assert Spread(0.0, 0.0).variance(0.0) == 1.0
    # Big, regular series: the floor is a share of the level, whatever the volume.
    assert Spread(0.0, 0.0).variance(1_000_000.0) == pytest.approx((REL_FLOOR * 1_000_000) ** 2)


def test_a_drop_scores_negative() -> None:
    _, z = score(0.0, 30.0, Spread(), weeks=4)
    assert z < -4


def test_the_spread_is_fitted_from_the_series_own_noise() -> None:
    rng = random.Random(7)
    # Poisson-like at 50 an hour and relative noise of 10% at 5,000: both parts are found.
    samples = []
    for level in (50.0, 5000.0):
        for _ in range(400):
            sd = math.sqrt(level + 0.01 * level * level)
            samples.append((rng.gauss(0, sd * math.sqrt(1 + median_variance(3))), level))
    spread = fit_spread(samples, others=3)
    assert spread.a == pytest.approx(0.01, rel=0.3)
    assert spread.variance(5000.0) == pytest.approx(5000 + 0.01 * 5000**2, rel=0.3)


def test_a_hundred_times_the_counts_is_a_hundred_times_phi_and_the_same_score() -> None:
    rng = random.Random(3)
    samples = [(rng.gauss(0, 6), rng.choice([10.0, 40.0])) for _ in range(300)]
    small = fit_spread(samples, others=3)
    big = fit_spread([(100 * d, 100 * m) for d, m in samples], others=3)
    assert big.phi == pytest.approx(100 * small.phi) and big.a == pytest.approx(small.a)
    assert score(9000.0, 4000.0, big, 4)[1] == pytest.approx(score(90.0, 40.0, small, 4)[1])


def test_the_level_is_a_weighted_median_of_ratios() -> None:
    assert weighted_median([(1.0, 10.0), (1.0, 10.0), (5.0, 10.0)]) == 1.0  # one odd hour
    assert weighted_median([(2.0, 30.0), (1.0, 10.0), (1.0, 10.0)]) == 2.0  # the busy hour weighs
    assert weighted_median([(3.0, 0.0)]) is None


def counts_by_reason(now: dict[str, float], before: dict[str, float]) -> dict[Series, dict[datetime, float]]:
    values = set(now) | set(before)
    return {
        ("report", "reason", value): {
            **{week: before.get(value, 0.0) for week in WEEKS},
            HOUR: now.get(value, 0.0),
        }
        for value in values
    }


@pytest.fixture
def config() -> VigilConfig:
    return parse_config(config_data())  # top_n 3, top_share 0.2, min_count 10


def test_a_value_never_in_the_top_before_that_now_leads_is_a_new_contributor(config: VigilConfig) -> None:
    before = {"spam": 20, "harassment": 10, "scam": 5, "fake_listing": 1}
    counts = counts_by_reason({"crypto_giveaway": 60, "spam": 20, "harassment": 10}, before)
    found = new_contributors(counts, list(counts), HOUR, WEEKS, config)
    assert found == {
        ("report", "reason", "crypto_giveaway"): {
            "share": round(60 / 90, 3),
            "previous_top": ["harassment", "scam", "spam"],
        }
    }


def test_a_former_top_value_coming_back_is_not_new(config: VigilConfig) -> None:
    counts = counts_by_reason({"scam": 60, "spam": 20}, {"spam": 20, "harassment": 10, "scam": 5})
    assert new_contributors(counts, list(counts), HOUR, WEEKS, config) == {}


def test_a_new_value_needs_its_share_and_its_count(config: VigilConfig) -> None:
    before = {"spam": 20, "harassment": 10, "scam": 5}
    small_share = counts_by_reason({"new_thing": 12, "spam": 100}, before)  # 11% of the hour
    assert new_contributors(small_share, list(small_share), HOUR, WEEKS, config) == {}
    few = counts_by_reason({"new_thing": 6, "spam": 2}, before)  # 75%, but only 6 reports
    assert new_contributors(few, list(few), HOUR, WEEKS, config) == {}


def test_the_overall_series_has_no_contributors(config: VigilConfig) -> None:
    counts: dict[Series, dict[datetime, float]] = {("report", "", ""): {HOUR: 500.0}}
    assert new_contributors(counts, list(counts), HOUR, WEEKS, config) == {}

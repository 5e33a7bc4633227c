"""The robust statistics behind an alert, without a database: the median and MAD of the same
hour in past weeks, a Poisson floor for small counts, and what counts as a new top value."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from tests.harness.world import MONDAY, config_data
from workflows.anomalies.detect import MAD_SCALE, Series, new_contributors, robust_score
from workflows.config import VigilConfig, parse_config

HOUR = MONDAY - timedelta(hours=1)
WEEKS = [HOUR - timedelta(weeks=k) for k in range(1, 5)]


def test_the_score_counts_robust_standard_deviations_from_the_median() -> None:
    median, scale, score = robust_score(1300.0, [1000.0, 1100.0, 900.0, 1000.0])
    assert median == 1000.0
    assert scale == pytest.approx(MAD_SCALE * 50)  # deviations 0, 100, 100, 0: MAD 50
    assert score == pytest.approx(300 / (MAD_SCALE * 50))


def test_one_odd_week_does_not_move_the_baseline() -> None:
    steady, _, _ = robust_score(100.0, [100.0, 100.0, 100.0, 100.0])
    odd, _, score = robust_score(100.0, [100.0, 100.0, 100.0, 5000.0])
    assert steady == odd == 100.0 and score == 0.0


def test_small_counts_are_judged_against_poisson_noise_not_a_zero_spread() -> None:
    # A series that was 4 every week has no spread at all; 4 → 9 is still only noise-sized.
    median, scale, score = robust_score(9.0, [4.0, 4.0, 4.0, 4.0])
    assert (median, scale) == (4.0, 2.0)  # sqrt(4)
    assert score == 2.5
    # Even an empty history has a floor of one: a single event is not infinitely surprising.
    assert robust_score(1.0, [0.0, 0.0]) == (0.0, 1.0, 1.0)


def test_a_drop_scores_negative() -> None:
    _, _, score = robust_score(0.0, [30.0, 30.0, 30.0, 30.0])
    assert score == pytest.approx(-30 / math.sqrt(30))


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

"""Velocity arithmetic without a database: nearest-rank percentiles of the population, and
the features an account's window totals become (test_signals.py reads them from real data)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness.world import MONDAY
from workflows.signals.velocity import (
    WINDOWS,
    features_of,
    hour_of,
    percentile,
    population_summary,
    window_starts,
)


def test_percentiles_are_nearest_rank_values_of_the_population() -> None:
    ten = [float(n) for n in range(1, 11)]
    assert [percentile(ten, p) for p in (1, 10, 11, 50, 90, 91, 99, 100)] == [1, 1, 2, 5, 9, 10, 10, 10]
    assert percentile([7.0], 50) == percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_a_population_summary_counts_only_accounts_that_did_something() -> None:
    # Nine accounts sent once, one twice, one five times; two accounts sent nothing.
    counts = [1] * 9 + [2, 5, 0, 0]
    assert population_summary(counts) == {"p50": 1, "p90": 2, "p99": 5, "accounts": 11}
    assert population_summary([0, 0]) is None
    assert population_summary([]) is None


def test_one_outlier_does_not_move_the_median_but_owns_the_p99() -> None:
    summary = population_summary([3] * 99 + [10_000])
    assert summary is not None
    assert (summary["p50"], summary["p90"], summary["p99"]) == (3, 3, 3)
    assert population_summary([3] * 98 + [10_000] * 2) == {"p50": 3, "p90": 3, "p99": 10_000, "accounts": 100}


def test_windows_start_an_hour_a_day_and_a_week_back_widest_last() -> None:
    assert list(WINDOWS) == ["1h", "24h", "7d"]
    assert window_starts(MONDAY) == [
        MONDAY - timedelta(hours=1),
        MONDAY - timedelta(days=1),
        MONDAY - timedelta(days=7),
    ]
    assert hour_of(MONDAY + timedelta(minutes=59, seconds=59)) == MONDAY


def test_every_configured_type_is_in_every_window_even_when_quiet() -> None:
    totals = [("send_velocity", [(2, 100.0), (3, 200.0), (4, 207.0)])]
    features = features_of("acct_v", MONDAY, ["send_velocity", "login"], totals, None, None)
    assert features["windows"]["1h"] == {
        "send_velocity": {"count": 2, "sum": 100.0},
        "login": {"count": 0, "sum": 0.0},
    }
    assert features["windows"]["7d"]["send_velocity"] == {"count": 4, "sum": 207.0}
    assert features["population"] == {"1h": {}, "24h": {}, "7d": {}}
    assert features["first_seen"] is None and features["account_age_days"] is None


@pytest.mark.parametrize(
    ("created_days", "first_days", "age", "source"),
    [
        (400, 20, 400.0, "profile"),  # the platform knows best
        (None, 20, 20.0, "first_seen"),
        (None, None, None, None),
    ],
)
def test_an_accounts_age_comes_from_its_profile_else_its_first_signal(
    created_days: int | None, first_days: int | None, age: float | None, source: str | None
) -> None:
    created = MONDAY - timedelta(days=created_days) if created_days is not None else None
    first = MONDAY - timedelta(days=first_days) if first_days is not None else None
    features = features_of("acct_v", MONDAY, ["login"], [], first, first, created_at=created)
    assert (features["account_age_days"], features["account_age_source"]) == (age, source)


def test_an_age_is_in_days_to_two_decimals() -> None:
    created = MONDAY - timedelta(days=22, hours=10)
    features = features_of("acct_v", MONDAY, [], [], None, None, created_at=created)
    assert features["account_age_days"] == 22.42
    assert features["account_created_at"] == created.isoformat()

"""The executor's pure policy (backoff bounds) and how it is put together."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.harness.vigil import Vigil
from workflows.enforcement import Enforcer, Executor
from workflows.enforcement.executor import RetryPolicy


def test_backoff_doubles_from_one_second_with_jitter_and_stops_at_sixty() -> None:
    policy = RetryPolicy()
    rng = random.getstate()
    try:
        random.seed(12)
        for attempt in range(1, 12):
            ceiling = min(60.0, 2.0 ** (attempt - 1))
            for _ in range(50):
                delay = policy.delay(attempt, None).total_seconds()
                assert ceiling / 2 <= delay <= ceiling  # jitter keeps at least half of it
    finally:
        random.setstate(rng)


def test_attempt_zero_waits_like_the_first_and_never_less_than_half_a_second() -> None:
    policy = RetryPolicy()
    for _ in range(50):
        assert 0.5 <= policy.delay(0, None).total_seconds() <= 1.0


def test_retry_after_is_honoured_even_beyond_the_cap() -> None:
    policy = RetryPolicy()
    assert policy.delay(1, 30.0) == timedelta(seconds=30)
    assert policy.delay(20, 120.0) == timedelta(seconds=120)  # the platform asked for two minutes
    assert policy.delay(10, 0.1).total_seconds() >= 30.0  # a short Retry-After never shortens the backoff


def test_a_policy_with_other_numbers_keeps_the_same_shape() -> None:
    policy = RetryPolicy(base=0.01, cap=0.05, give_up_after=timedelta(seconds=1))
    for attempt in range(1, 10):
        assert policy.delay(attempt, None).total_seconds() <= 0.05


def test_the_enforcer_is_requests_plus_an_executor_and_needs_a_job_runner(enforcing: Vigil) -> None:
    enforcer = enforcing.ctx.enforcer
    assert isinstance(enforcer.executor, Executor)
    assert enforcer.executor.jobs is enforcing.ctx.jobs  # what Slack is told is always a job
    assert not enforcer.manual and enforcer.executor.gateway is enforcer.gateway
    # No "None runner" mode any more: without a job runner nothing would post the approval card.
    with pytest.raises(TypeError, match="jobs"):
        Enforcer(enforcing.db, enforcing.clock, enforcer.config, enforcer.notifier, None)  # type: ignore[call-arg]

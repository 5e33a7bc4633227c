"""When the enforcement API misbehaves: clear outcomes, nothing lost, nothing executed twice."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from bot.cli import main
from bot.fakes.enforcement import FakeEnforcement
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    audit_actions,
    click,
    eventually,
    in_thread,
    request_row,
)
from tests.harness.vigil import TEST_ENFORCER, Vigil, VigilFactory
from tests.harness.world import ANALYST
from workflows.enforcement import EnforcerOptions


def _later(vigil: Vigil, seconds: float) -> int:
    vigil.clock.advance(timedelta(seconds=seconds))
    return vigil.enforce()


def test_a_500_then_success_is_retried_with_the_same_key(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    fake_enforcement.then("acct_1", 500, 503)
    ask(enforcing, accounts="acct_1 acct_2")
    approve_and_wait(enforcing)
    enforcing.enforce()
    assert actions(enforcing)["acct_1"].status == "pending"  # backing off, not failed
    assert actions(enforcing)["acct_2"].status == "done"
    assert _later(enforcing, 0.1) == 0  # backoff is at least half a second
    _later(enforcing, 2)
    _later(enforcing, 4)
    calls = fake_enforcement.calls_for("acct_1")
    assert [c.status for c in calls] == [500, 503, 200]
    assert {c.key for c in calls} == {"vigil:REQ-1:acct_1:suspend"}
    assert actions(enforcing)["acct_1"].status == "done"
    assert request_row(enforcing).status == "completed"
    assert "`acct_1` suspended" in in_thread(enforcing, "`acct_1` suspended")[0]["text"]


def test_an_unknown_account_fails_at_once_and_is_not_retried(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    ask(enforcing, accounts="acct_ghost")
    approve_and_wait(enforcing)
    enforcing.enforce()
    action = actions(enforcing)["acct_ghost"]
    assert action.status == "failed" and action.result_code == 404
    assert _later(enforcing, 3600) == 0
    assert len(fake_enforcement.calls_for("acct_ghost")) == 1
    said = in_thread(enforcing, "acct_ghost")[0]["text"]
    assert "failed (HTTP 404)" in said and "unknown account" in said
    finished = in_thread(enforcing, "REQ-1 finished")[0]["text"]
    assert "1 failed" in finished
    upload = enforcing.slack.wait_for("file.upload")[0]
    assert b"acct_ghost,suspend,failed,404" in upload["body"]


def test_a_422_is_a_permanent_refusal(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    fake_enforcement.then("acct_1", 422)
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.enforce()
    assert actions(enforcing)["acct_1"].status == "failed"
    assert _later(enforcing, 3600) == 0


def test_a_429_waits_as_long_as_retry_after_says(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    fake_enforcement.then("acct_1", 429, retry_after="30")
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.enforce()
    action = actions(enforcing)["acct_1"]
    assert action.status == "pending"
    assert action.next_attempt_at is not None
    assert action.next_attempt_at - enforcing.clock.now() >= timedelta(seconds=30)
    assert _later(enforcing, 20) == 0  # Retry-After honoured
    assert _later(enforcing, 15) == 1
    assert actions(enforcing)["acct_1"].status == "done"
    assert {c.key for c in fake_enforcement.calls_for("acct_1")} == {"vigil:REQ-1:acct_1:suspend"}


def test_a_call_that_timed_out_but_went_through_is_replayed_with_the_same_key(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    vigil = make_vigil(
        fake_enforcement, options=EnforcerOptions(**{**TEST_ENFORCER.__dict__, "call_timeout": 0.2})
    )
    fake_enforcement.add("acct_1")
    fake_enforcement.latency = 1.0  # slower than the per-call timeout
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    vigil.enforce()
    action = actions(vigil)["acct_1"]
    assert action.status == "pending" and action.error == "timed out"
    # ...but the platform got it and acted, after Vigil stopped waiting.
    eventually(lambda: len(fake_enforcement.calls_for("acct_1")) == 1, what="the slow call to land")
    fake_enforcement.latency = 0
    _later(vigil, 5)
    assert actions(vigil)["acct_1"].status == "done"
    calls = fake_enforcement.calls_for("acct_1", "suspend")
    assert [c.status for c in calls] == [200, 200]  # the platform acted once; the retry is a replay
    assert {c.key for c in calls} == {"vigil:REQ-1:acct_1:suspend"}
    assert fake_enforcement.accounts["acct_1"]["state"] == "suspended"


def test_ten_minutes_of_outage_marks_failed_retryable_then_a_retry_finishes_it(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    fake_enforcement.outage = 503
    ask(enforcing, accounts="acct_1 acct_2")
    approve_and_wait(enforcing)
    enforcing.enforce()
    for _ in range(12):  # the API stays down; Vigil keeps trying, a minute at a time
        _later(enforcing, 60)
    assert {a.status for a in actions(enforcing).values()} == {"failed_retryable"}
    assert request_row(enforcing).status == "completed"
    finished = in_thread(enforcing, "REQ-1 finished")
    assert "2 failed (retryable)" in finished[0]["text"]
    assert "enforcement_retry" in str(finished[0]["blocks"])
    assert _later(enforcing, 3600) == 0  # given up until someone retries

    fake_enforcement.outage = None
    click(enforcing, "enforcement_retry", user=ANALYST)
    in_thread(enforcing, "retried 2 failed action(s)")
    assert enforcing.enforce() == 2
    assert {a.status for a in actions(enforcing).values()} == {"done"}
    for account in ("acct_1", "acct_2"):
        assert {c.key for c in fake_enforcement.calls_for(account)} == {f"vigil:REQ-1:{account}:suspend"}
    assert "enforcement.retry" in audit_actions(enforcing)
    assert len(in_thread(enforcing, "REQ-1 finished", count=2)) == 2


def test_retry_failed_from_the_command_line(
    enforcing: Vigil, fake_enforcement: FakeEnforcement, monkeypatch
) -> None:
    fake_enforcement.add("acct_1")
    fake_enforcement.outage = 500
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.enforce()
    _later(enforcing, 11 * 60)
    assert actions(enforcing)["acct_1"].status == "failed_retryable"

    monkeypatch.setenv("VIGIL_DATABASE_URL", enforcing.db.url)
    result = CliRunner().invoke(main, ["enforcement", "retry-failed", "--by", "U0OPS0001"])
    assert result.exit_code == 0, result.output
    assert "REQ-1: 1 action(s) queued again" in result.output
    fake_enforcement.outage = None
    assert enforcing.enforce() == 1
    assert actions(enforcing)["acct_1"].status == "done"
    assert CliRunner().invoke(main, ["enforcement", "retry-failed"]).output.strip() == "nothing to retry"


def test_a_slack_failure_while_posting_the_approval_card_loses_nothing(vigil: Vigil) -> None:
    vigil.slack.fail("chat.postMessage", error="service_unavailable", times=1)
    assert ask(vigil, accounts="acct_1").status_code == 200
    vigil.slack.wait_for("chat.postMessage")  # the failed attempt
    eventually(lambda: _announce_pending_with_error(vigil), what="the retry to be scheduled")
    assert request_row(vigil).card_ts is None and request_row(vigil).status == "pending_approval"
    vigil.clock.advance(timedelta(minutes=5))
    eventually(lambda: request_row(vigil).card_ts is not None, what="the card to be posted on retry")
    approve_and_wait(vigil)


def _announce_pending_with_error(vigil: Vigil) -> bool:
    from sqlalchemy import select

    from store.jobs import Job

    with vigil.db.read() as session:
        job = session.scalars(select(Job).where(Job.key == "enforcement-announce:1")).first()
        return bool(job and job.status == "pending" and job.last_error)


def test_a_slack_failure_while_reporting_results_delays_them_and_loses_nothing(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.slack.fail("chat.postMessage", error="service_unavailable", times=1)
    enforcing.enforce()
    eventually(lambda: request_row(enforcing).status == "completed", what="the request to complete")
    eventually(lambda: _job_waiting(enforcing, "enforcement.results"), what="the retry to be scheduled")
    enforcing.clock.advance(timedelta(minutes=5))
    delivered = enforcing.slack.wait_for(
        "chat.postMessage",
        where=lambda c: (
            bool(c.get("thread_ts")) and "acct_1" in str(c.get("text")) and bool((c.response or {}).get("ok"))
        ),
    )
    assert delivered


def _job_waiting(vigil: Vigil, kind: str) -> bool:
    from sqlalchemy import select

    from store.jobs import Job

    with vigil.db.read() as session:
        jobs = session.scalars(select(Job).where(Job.kind == kind)).all()
        return any(job.status == "pending" and job.last_error for job in jobs)

"""Work in flight keeps its lease; dead work is taken over fast; nothing is called twice at once.

The platform is slow today: a call stays open, an answer trickles in, the platform says the
first call with a key is still being processed. Leases are short and a heartbeat renews them
while a call is open, so another replica never calls again meanwhile; each call has an overall
deadline; "still in progress" is a retry, never "already suspended". Lease time is shown on an
injected lease clock, never measured.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store import enforcement as ledger
from store.db import Database
from store.jobs import Job
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    eventually,
    in_thread,
    request_row,
)
from tests.harness.vigil import TEST_ENFORCER, Vigil, VigilFactory
from workflows.clock import FixedClock
from workflows.jobs import JobRunner, enqueue

KEY = "vigil:REQ-1:acct_1:suspend"


def _later(vigil: Vigil, seconds: float) -> int:
    vigil.clock.advance(timedelta(seconds=seconds))
    return vigil.enforce()


def _lease_until(vigil: Vigil, account: str = "acct_1") -> datetime:
    lease_until = actions(vigil)[account].lease_until
    assert lease_until is not None
    return lease_until


def test_a_slow_call_keeps_its_lease_and_nobody_calls_again_while_it_is_open(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, lease_clock: FixedClock
) -> None:
    # The call may take up to 20 s; the lease is 30 s, renewed by a heartbeat (fast here).
    options = replace(TEST_ENFORCER, call_timeout=20.0, heartbeat_every=0.02)
    vigil = make_vigil(fake_enforcement, options=options)
    fake_enforcement.add("acct_1")
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    fake_enforcement.hold()  # the platform is stuck on this one
    vigil.ctx.enforcer.start()
    eventually(lambda: fake_enforcement.open_calls(KEY) == 1, what="the call to be open")

    # Two minutes of lease time pass while the call is open (the old 2-minute lease, gone):
    # the heartbeat keeps renewing it, 20 s at a time.
    for _ in range(6):
        lease_clock.advance(timedelta(seconds=20))
        eventually(
            lambda: _lease_until(vigil) > lease_clock.now() + timedelta(seconds=20),
            what="the heartbeat to renew the lease",
        )
    # Another replica looks for work: the row is leased, so it calls nobody.
    replica = make_vigil(fake_enforcement, options=options)
    assert replica.enforce() == 0
    assert fake_enforcement.arrivals(KEY) == 1  # ...and this worker never claimed its own row again

    fake_enforcement.release()
    eventually(lambda: actions(vigil)["acct_1"].status == "done", what="the call to be recorded")
    vigil.ctx.enforcer.stop()
    assert [c.status for c in fake_enforcement.calls_for("acct_1")] == [200]
    assert fake_enforcement.arrivals(KEY) == 1
    assert request_row(vigil).status == "completed"


def test_a_409_for_a_key_still_in_progress_is_a_retry_not_a_success(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    vigil = make_vigil(fake_enforcement, options=replace(TEST_ENFORCER, call_timeout=1.0))
    fake_enforcement.add("acct_1")
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    fake_enforcement.hold()
    vigil.enforce()  # the platform does not answer within the call's deadline...
    action = actions(vigil)["acct_1"]
    assert action.status == "pending" and action.error == "timed out"
    eventually(lambda: fake_enforcement.open_calls(KEY) == 1, what="the platform to be working on it")

    _later(vigil, 2)  # the retry, same key, while the first call is still open
    (in_use,) = [c for c in fake_enforcement.calls_for("acct_1") if c.status == 409]
    assert in_use.key == KEY
    action = actions(vigil)["acct_1"]
    assert action.status == "pending", "a key still in progress is not 'already suspended'"
    assert action.result_code == 409 and "in use" in (action.error or "")
    assert fake_enforcement.accounts["acct_1"]["state"] == "active"

    fake_enforcement.release()  # the platform finishes the first call
    eventually(lambda: fake_enforcement.open_calls(KEY) == 0, what="the first call to end")
    assert fake_enforcement.accounts["acct_1"]["state"] == "suspended"
    _later(vigil, 5)
    action = actions(vigil)["acct_1"]
    assert action.status == "done" and action.result_code == 200  # the platform's own word
    assert {c.key for c in fake_enforcement.calls_for("acct_1")} == {KEY}
    assert "`acct_1` suspended" in in_thread(vigil, "`acct_1` suspended")[0]["text"]


def test_an_answer_that_trickles_in_is_cut_at_the_calls_deadline(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    # Each byte comes well within the per-read timeout; the whole answer would take seconds.
    vigil = make_vigil(fake_enforcement, options=replace(TEST_ENFORCER, call_timeout=0.5))
    fake_enforcement.add("acct_1")
    fake_enforcement.trickle = 0.1
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    vigil.enforce()
    action = actions(vigil)["acct_1"]
    assert action.status == "pending" and action.error == "timed out"  # transient: retried
    fake_enforcement.trickle = 0.0
    eventually(lambda: fake_enforcement.open_calls(KEY) == 0, what="the platform to notice the hang-up")
    _later(vigil, 5)
    assert actions(vigil)["acct_1"].status == "done"
    calls = fake_enforcement.calls_for("acct_1")
    assert {c.key for c in calls} == {KEY}
    assert fake_enforcement.accounts["acct_1"]["state"] == "suspended"


def test_a_dead_workers_actions_are_taken_over_once_its_lease_runs_out_not_before(
    enforcing: Vigil, fake_enforcement: FakeEnforcement, lease_clock: FixedClock
) -> None:
    fake_enforcement.add("acct_1", "acct_2", "acct_3")
    ask(enforcing, accounts="acct_1 acct_2 acct_3")
    approve_and_wait(enforcing)
    with enforcing.db.transaction() as session:  # a replica claimed two, then died
        dead = ledger.claim_due_actions(
            session, "dead-replica", enforcing.clock.now(), lease_clock.now(), timedelta(seconds=30), 2
        )
    assert enforcing.enforce() == 1  # the one nobody holds goes at once
    enforcing.clock.advance(timedelta(hours=1))  # business time does not free a lease...
    assert enforcing.enforce() == 0
    lease_clock.advance(timedelta(seconds=31))  # ...lease time does
    assert enforcing.enforce() == 2
    assert {a.status for a in actions(enforcing).values()} == {"done"}
    with enforcing.db.transaction() as session:  # the dead replica coming back cannot undo it
        assert ledger.release(session, dead, "dead-replica", enforcing.clock.now()) == 0


def test_a_call_whose_lease_may_have_run_out_is_not_started(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    """A worker cut off from the database for longer than a lease (no renewal got through)
    does not start calls it claimed back then: someone else may be making them."""
    now = [1000.0]
    options = replace(TEST_ENFORCER, monotonic=lambda: now[0])
    vigil = make_vigil(fake_enforcement, options=options)
    fake_enforcement.add("acct_1")
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    executor = vigil.ctx.enforcer.executor
    (claimed,) = executor._claim(1)
    now[0] += 30  # a lease later on this process's monotonic clock, no heartbeat in between
    assert executor._call(executor.gateway, claimed) is None  # type: ignore[arg-type]
    assert fake_enforcement.calls_for("acct_1") == []
    assert claimed.action_id not in executor.leases.held()


# --- the job runner shares the same leases ------------------------------------------------------
def _job(db: Database, key: str) -> Job:
    with db.read() as session:
        return session.scalars(select(Job).where(Job.key == key)).one()


def test_a_long_job_keeps_its_lease_while_it_runs(
    db: Database, clock: FixedClock, lease_clock: FixedClock
) -> None:
    release, started = threading.Event(), threading.Event()
    runs: list[str] = []

    def long_job(payload: dict) -> None:
        runs.append("run")
        started.set()
        release.wait(30)

    runner = JobRunner(db, clock, poll_seconds=0.05, lease_clock=lease_clock, heartbeat_every=0.02)
    runner.register("long", long_job)
    other = JobRunner(db, clock, lease_clock=lease_clock)  # another replica
    other.register("long", long_job)
    with db.transaction() as session:
        enqueue(session, clock, "long", {}, key="long")
    runner.start()
    try:
        assert started.wait(10)
        for minute in range(6):  # two minutes of lease time
            if minute == 3:
                runner.request_stop()  # SIGTERM: a job already running keeps its lease to the end
            lease_clock.advance(timedelta(seconds=20))
            eventually(
                lambda: _job(db, "long").lease_until > lease_clock.now() + timedelta(seconds=20),
                what="the heartbeat to renew the job's lease",
            )
            assert other.run_once() == 0
    finally:
        release.set()
        runner.stop()
    assert runs == ["run"]
    assert _job(db, "long").status == "done" and _job(db, "long").attempts == 1

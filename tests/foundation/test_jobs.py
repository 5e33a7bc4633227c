"""Background work survives failures and restarts, and runs once per key."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from store.db import Database
from store.jobs import Job
from workflows.clock import FixedClock
from workflows.jobs import JobRunner, PermanentJobError, enqueue


def _enqueue(db: Database, clock: FixedClock, kind: str, payload: dict, key: str | None = None, **kw) -> bool:
    with db.transaction() as session:
        return enqueue(session, clock, kind, payload, key=key, **kw)


def _job(db: Database, key: str) -> Job:
    with db.read() as session:
        return session.scalars(select(Job).where(Job.key == key)).one()


def test_a_job_runs_once_and_the_same_key_is_queued_once(db: Database, clock: FixedClock) -> None:
    seen: list[dict] = []
    runner = JobRunner(db, clock)
    runner.register("card.post", seen.append)
    assert _enqueue(db, clock, "card.post", {"case": 1}, key="card:1")
    assert not _enqueue(db, clock, "card.post", {"case": 1}, key="card:1")  # a retried delivery
    assert runner.run_until_idle() == 1
    assert runner.run_until_idle() == 0
    assert seen == [{"case": 1}]
    assert _job(db, "card:1").status == "done"


def test_a_failing_job_is_retried_with_backoff_then_succeeds(db: Database, clock: FixedClock) -> None:
    attempts: list[int] = []

    def flaky(payload: dict) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("slack is having a moment")

    runner = JobRunner(db, clock)
    runner.register("flaky", flaky)
    _enqueue(db, clock, "flaky", {}, key="f")
    assert runner.run_once() == 1
    job = _job(db, "f")
    assert (
        job.status == "pending" and job.run_at > clock.now() and "slack is having a moment" in job.last_error
    )
    assert runner.run_once() == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    runner.run_once()
    clock.advance(timedelta(minutes=1))
    runner.run_once()
    assert len(attempts) == 3
    assert _job(db, "f").status == "done"


def test_permanent_failures_and_exhausted_attempts_stop(db: Database, clock: FixedClock) -> None:
    def refuse(payload: dict) -> None:
        raise PermanentJobError("unknown case")

    def always_down(payload: dict) -> None:
        raise TimeoutError

    runner = JobRunner(db, clock)
    runner.register("refuse", refuse)
    runner.register("down", always_down)
    _enqueue(db, clock, "refuse", {}, key="r")
    _enqueue(db, clock, "down", {}, key="d", max_attempts=2)
    runner.run_once()
    assert _job(db, "r").status == "failed"
    clock.advance(timedelta(hours=1))
    runner.run_once()
    assert _job(db, "d").status == "failed" and _job(db, "d").attempts == 2


def test_a_dead_workers_jobs_are_picked_up_when_its_lease_runs_out(
    db: Database, clock: FixedClock, lease_clock: FixedClock
) -> None:
    done: list[dict] = []
    dead = JobRunner(db, clock, lease_clock=lease_clock)
    dead.register("work", lambda payload: None)
    _enqueue(db, clock, "work", {"n": 1}, key="w")
    from store import jobs as job_store

    with db.transaction() as session:  # the dead worker claimed it, then the process died
        claimed = job_store.claim(
            session, dead.worker_id, clock.now(), lease_clock.now(), dead.lease, 10, ["work"]
        )
        assert len(claimed) == 1
    survivor = JobRunner(db, clock, lease_clock=lease_clock)
    survivor.register("work", done.append)
    assert survivor.run_once() == 0
    clock.advance(timedelta(hours=1))  # business time alone never frees a lease
    assert survivor.run_once() == 0
    lease_clock.advance(dead.lease + timedelta(seconds=1))
    assert survivor.run_once() == 1
    assert done == [{"n": 1}]
    # The dead worker coming back cannot mark someone else's row.
    with db.transaction() as session:
        assert not job_store.finish(session, _job(db, "w").id, dead.worker_id, clock.now())


def test_two_workers_never_run_the_same_job(db: Database, clock: FixedClock) -> None:
    ran: list[int] = []
    lock = threading.Lock()

    def record(payload: dict) -> None:
        with lock:
            ran.append(payload["n"])

    for n in range(60):
        _enqueue(db, clock, "count", {"n": n}, key=f"c{n}")
    runners = [JobRunner(db, clock, batch=5) for _ in range(2)]
    for runner in runners:
        runner.register("count", record)
    threads = [threading.Thread(target=runner.run_until_idle) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(ran) == list(range(60))


def test_the_worker_thread_runs_work_as_it_arrives(db: Database, clock: FixedClock) -> None:
    done = threading.Event()
    runner = JobRunner(db, clock, poll_seconds=0.05)
    runner.register("ping", lambda payload: done.set())
    runner.start()
    try:
        _enqueue(db, clock, "ping", {})
        runner.wake()
        assert done.wait(10)
    finally:
        runner.stop()


def test_one_long_job_does_not_hold_up_the_others(
    db: Database, clock: FixedClock, lease_clock: FixedClock
) -> None:
    release, quick_done = threading.Event(), threading.Event()
    runner = JobRunner(db, clock, poll_seconds=0.05, workers=2, lease_clock=lease_clock)
    runner.register("long", lambda payload: release.wait(20))
    runner.register("quick", lambda payload: quick_done.set())
    runner.start()
    try:
        _enqueue(db, clock, "long", {}, key="long")
        runner.wake()
        _enqueue(db, clock, "quick", {}, key="quick")
        runner.wake()
        assert quick_done.wait(10), "the quick job waited behind the long one"
        # The long job's lease looks run out on a jumping clock; this process never runs it twice.
        lease_clock.advance(timedelta(hours=1))
        runner.wake()
        time.sleep(0.3)  # give the worker loop rounds in which it could (wrongly) claim it again
        assert _job(db, "long").attempts == 1
    finally:
        release.set()
        runner.stop()
    assert _job(db, "long").status == "done" and _job(db, "long").attempts == 1

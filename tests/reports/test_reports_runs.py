"""Monday morning: the digest goes out on time, once, with its charts, whoever else is
running, whatever went down, and a failed post is retried and recorded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.fakes.slack import Call
from store.db import Database
from store.installation import record_first_start
from store.reports import DigestRun
from tests.harness.report_data import add_case
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import DIGEST
from workflows.reports import MAX_ATTEMPTS, REVIEW, SHIFT, WEEKLY

# Monday 23 November 2026 (the clock fixture), config in UTC, digest on Mondays at 09:00.


@pytest.fixture(autouse=True)
def serving_since_october(db: Database) -> None:
    """These stories happen on a deployment that has run since October (a first start is in
    tests/test_first_start.py)."""
    with db.transaction() as session:
        record_first_start(session, datetime(2026, 10, 1, tzinfo=UTC), "test")


def digest_posts(vigil: Vigil, title: str = "Weekly T&S digest") -> list[Call]:
    """Digest messages Slack accepted."""
    return [
        c
        for c in vigil.slack.calls_of("chat.postMessage")
        if c.get("channel") == DIGEST and title in str(c.get("text")) and (c.response or {}).get("ok")
    ]


def run_of(vigil: Vigil, digest: str, period: str) -> DigestRun | None:
    with vigil.db.read() as session:
        return session.scalars(
            select(DigestRun).where(DigestRun.digest == digest, DigestRun.period == period)
        ).first()


def posted(vigil: Vigil, digest: str, period: str) -> DigestRun | None:
    run = run_of(vigil, digest, period)
    return run if run is not None and run.status == "posted" else None


def charts_done(vigil: Vigil, period: str) -> bool:
    run = run_of(vigil, WEEKLY, period)
    return run is not None and len(run.charts or []) == 2


def test_two_replicas_post_each_digest_once_with_charts_in_the_thread(make_vigil: VigilFactory) -> None:
    first, second = make_vigil(), make_vigil()
    with first.db.transaction() as s:
        add_case(s, first.ctx.config, datetime(2026, 11, 17, 9, tzinfo=UTC), category="host_report")
    barrier = threading.Barrier(2)
    results = {}

    def tick(name: str, app: Vigil) -> None:
        barrier.wait()
        results[name] = app.ctx.reports.run_due()  # the scheduler's 09:00 tick, on each replica

    threads = [threading.Thread(target=tick, args=(n, a)) for n, a in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [r for rs in results.values() for r in rs if r.outcome == "claimed"]
    assert sorted((r.digest, r.period) for r in claimed) == [
        (REVIEW, "2026-W47"),
        (SHIFT, "2026-11-23"),
        (WEEKLY, "2026-W47"),
    ]
    for digest, period in ((WEEKLY, "2026-W47"), (REVIEW, "2026-W47"), (SHIFT, "2026-11-23")):
        eventually(lambda d=digest, p=period: posted(first, d, p))
    eventually(lambda: charts_done(first, "2026-W47"))

    (post,) = digest_posts(first)
    assert len(digest_posts(first, "investigation review")) == 1
    assert len(digest_posts(first, "Shift summary")) == 1
    uploads = first.slack.calls_of("files.completeUploadExternal")
    assert len(uploads) == 2
    assert {u["thread_ts"] for u in uploads} == {post.response["ts"]}
    assert {u["channel_id"] for u in uploads} == {DIGEST}
    titles = sorted(f["title"] for u in uploads for f in u["files"])
    assert titles == [
        "Daily volume by category, 8 weeks to 2026-W47",
        "SLA attainment trend, 8 weeks to 2026-W47",
    ]
    pngs = first.slack.calls_of("file.upload")
    assert len(pngs) == 2 and all(p["body"].startswith(b"\x89PNG") for p in pngs)
    run = posted(first, WEEKLY, "2026-W47")
    assert run is not None and (run.attempts, run.round, run.ts) == (1, 1, post.response["ts"])

    # A restart (a third runtime) catches up on start: nothing is due that was not posted.
    third = make_vigil()
    assert {r.outcome for r in third.ctx.reports.catch_up()} == {"exists"}
    third.run_jobs()
    assert len(digest_posts(first)) == 1 and len(first.slack.calls_of("files.completeUploadExternal")) == 2


def test_after_downtime_only_the_latest_missed_week_is_posted(vigil: Vigil) -> None:
    # Vigil was down from before 9 November until Wednesday 25 November, 14:00.
    vigil.clock.set(datetime(2026, 11, 25, 14, tzinfo=UTC))
    results = vigil.ctx.reports.catch_up()
    assert {(r.digest, r.period, r.outcome) for r in results} == {
        (WEEKLY, "2026-W47", "claimed"),
        (REVIEW, "2026-W47", "claimed"),
        (SHIFT, "2026-11-25", "claimed"),
    }
    eventually(lambda: posted(vigil, WEEKLY, "2026-W47"))
    with vigil.db.read() as session:
        periods = sorted(session.scalars(select(DigestRun.period).where(DigestRun.digest == WEEKLY)))
    assert periods == ["2026-W47"]  # W45 and W46 stay missed
    # The next Monday's tick posts W48, once.
    vigil.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    vigil.ctx.reports.run_due((WEEKLY,))
    vigil.ctx.reports.run_due((WEEKLY,))
    eventually(lambda: posted(vigil, WEEKLY, "2026-W48"))
    assert [p.get("text").split(":")[0] for p in digest_posts(vigil)] == [
        "Weekly T&S digest 2026-W47",
        "Weekly T&S digest 2026-W48",
    ]


def test_a_failed_post_is_recorded_and_retried_on_the_next_tick(vigil: Vigil) -> None:
    vigil.slack.fail("chat.postMessage", error="channel_not_found")
    assert [r.outcome for r in vigil.ctx.reports.run_due((WEEKLY,))] == ["claimed"]

    def failed() -> DigestRun | None:
        run = run_of(vigil, WEEKLY, "2026-W47")
        return run if run is not None and run.status == "failed" else None

    run = eventually(failed)
    assert (run.attempts, run.retryable) == (1, True) and "channel_not_found" in (run.error or "")
    assert not digest_posts(vigil)
    # Five minutes later the retry tick claims a new round, and it goes through.
    vigil.clock.advance(timedelta(minutes=5))
    assert [r.outcome for r in vigil.ctx.reports.run_due((WEEKLY,))] == ["retrying"]
    run = eventually(lambda: posted(vigil, WEEKLY, "2026-W47"))
    assert (run.attempts, run.round, run.error) == (2, 2, None)
    assert len(digest_posts(vigil)) == 1
    assert [r.outcome for r in vigil.ctx.reports.run_due((WEEKLY,))] == ["exists"]


def test_a_post_that_keeps_failing_gives_up_and_a_person_can_force_it(vigil: Vigil) -> None:
    vigil.ctx.reports.claim(WEEKLY, "2026-W47", enqueue_post=False)
    with vigil.db.transaction() as session:
        session.execute(
            update(DigestRun).values(status="failed", attempts=MAX_ATTEMPTS, retryable=False, error="boom")
        )
    assert vigil.ctx.reports.run_due((WEEKLY,))[0].outcome == "gave_up"
    forced = vigil.ctx.reports.claim(WEEKLY, "2026-W47", force=True)
    assert (forced.outcome, forced.round) == ("retrying", 2)
    run = eventually(lambda: posted(vigil, WEEKLY, "2026-W47"))
    assert run.forced and run.attempts == 1


def test_a_post_interrupted_mid_flight_is_never_posted_again_by_itself(vigil: Vigil) -> None:
    reports = vigil.ctx.reports
    claimed = reports.claim(WEEKLY, "2026-W47", enqueue_post=False)
    now = vigil.clock.now()
    with vigil.db.transaction() as session:  # the process died during the Slack call
        session.execute(
            update(DigestRun).values(status="posting", attempts=1, lease_until=now + timedelta(minutes=10))
        )
    assert reports.run_due((WEEKLY,))[0].outcome == "busy"  # still within its lease: someone is posting
    vigil.clock.advance(timedelta(minutes=11))
    interrupted = reports.run_due((WEEKLY,))[0]
    assert interrupted.outcome == "interrupted" and "--force" in (interrupted.error or "")
    assert reports.run_due((WEEKLY,))[0].outcome == "gave_up"
    # A job of the old round arriving late does nothing either.
    assert reports.post(WEEKLY, "2026-W47", claimed.round, _Unreachable()).outcome == "superseded"
    assert not digest_posts(vigil)


class _Unreachable:
    def post_report(self, report):  # pragma: no cover - must not be called
        raise AssertionError("posted")

    def upload_chart(self, where, period, chart):  # pragma: no cover
        raise AssertionError("uploaded")


def test_a_chart_upload_that_fails_is_retried_without_posting_the_digest_again(vigil: Vigil) -> None:
    vigil.slack.fail("files.completeUploadExternal", error="ratelimited_custom")
    vigil.ctx.reports.run_due((WEEKLY,))
    eventually(lambda: posted(vigil, WEEKLY, "2026-W47"))
    eventually(lambda: len(vigil.slack.calls_of("files.completeUploadExternal")) >= 2)
    # The failed chart job waits for its backoff (FixedClock): move time on, it goes through.
    vigil.clock.advance(timedelta(minutes=10))
    eventually(lambda: charts_done(vigil, "2026-W47"))
    assert len(digest_posts(vigil)) == 1
    assert len(vigil.slack.calls_of("files.completeUploadExternal")) == 3


def test_the_schedule_fires_at_the_configured_local_times_and_start_catches_up(
    make_vigil: VigilFactory,
) -> None:
    from bot.scheduler import build_scheduler
    from bot.serve import catch_up
    from tests.harness.world import config_data
    from workflows.config import parse_config

    config = parse_config(
        {**config_data(), "timezone": "Europe/Berlin", "digest": {"weekday": "fri", "time": "16:30"}}
    )
    vigil = make_vigil(config=config)
    scheduler = build_scheduler(vigil.ctx)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"digest-weekly", "shift-summary", "digest-retry"} <= set(jobs)
    after = datetime(2026, 10, 20, tzinfo=UTC)
    weekly = jobs["digest-weekly"].trigger.get_next_fire_time(None, after)
    shift = jobs["shift-summary"].trigger.get_next_fire_time(None, after)
    assert weekly.astimezone(UTC) == datetime(2026, 10, 23, 14, 30, tzinfo=UTC)  # Fri 16:30 CEST
    assert shift.astimezone(UTC) == datetime(2026, 10, 20, 6, 0, tzinfo=UTC)  # 08:00 CEST
    # The due week for a Friday schedule is still the last full week before it.
    vigil.clock.set(datetime(2026, 11, 27, 16, tzinfo=UTC))  # Fri 17:00 CET
    assert vigil.ctx.reports.due_period(WEEKLY).name == "2026-W47"
    vigil.clock.set(datetime(2026, 11, 27, 15, tzinfo=UTC))  # Fri 16:00 CET: not yet
    assert vigil.ctx.reports.due_period(WEEKLY).name == "2026-W46"
    catch_up(vigil.ctx)  # what `vigil serve` does before the scheduler starts
    eventually(lambda: posted(vigil, WEEKLY, "2026-W46"))

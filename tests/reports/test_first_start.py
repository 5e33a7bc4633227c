"""A new team installs Vigil on a Wednesday afternoon: its first start posts no digest, review
or shift summary for days before Vigil was there; the first ones that do go out cover time
Vigil has seen, and a later downtime is still caught up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.serve import catch_up
from store import migrate
from store.db import Database
from store.installation import Installation
from store.reports import DigestRun
from tests.harness.report_data import reports_over
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import DIGEST
from workflows.clock import FixedClock
from workflows.installation import first_start
from workflows.reports import REVIEW, SHIFT, WEEKLY

INSTALLED = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday of ISO week 48


def digest_channel_posts(vigil: Vigil) -> list[str]:
    return [
        str(c.get("text")).split(":")[0]
        for c in vigil.slack.calls_of("chat.postMessage")
        if c.get("channel") == DIGEST and not c.get("thread_ts")
    ]


def runs(vigil: Vigil) -> list[tuple[str, str, str]]:
    with vigil.db.read() as session:
        rows = session.execute(select(DigestRun.digest, DigestRun.period, DigestRun.status))
        return sorted((digest, period, status) for digest, period, status in rows)


def test_a_first_start_posts_nothing_from_before_vigil_was_installed(vigil: Vigil) -> None:
    vigil.clock.set(INSTALLED)
    catch_up(vigil.ctx)  # what `vigil serve` does before its scheduler starts
    assert [(r.digest, r.period, r.outcome) for r in vigil.ctx.reports.run_due()] == [
        (WEEKLY, "2026-W47", "before_first_start"),  # Monday's digest: a week before Vigil
        (REVIEW, "2026-W47", "before_first_start"),
        (SHIFT, "2026-11-25", "before_first_start"),  # this morning's summary: yesterday
    ]
    # A restart an hour later, and the retry tick, still find nothing of theirs to post.
    vigil.clock.advance(timedelta(hours=1))
    restarted = reports_over(vigil.db, vigil.clock, vigil.ctx.config)
    assert {r.outcome for r in restarted.catch_up()} == {"before_first_start"}
    vigil.run_jobs()
    assert runs(vigil) == [] and digest_channel_posts(vigil) == []
    with vigil.db.read() as session:
        assert session.scalars(select(Installation.first_started_at)).one() == INSTALLED

    # Thursday 08:00: the shift summary covers Wednesday, a day Vigil was running.
    vigil.clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert [r.outcome for r in vigil.ctx.reports.run_due()] == [
        "before_first_start",
        "before_first_start",
        "claimed",
    ]
    eventually(lambda: (SHIFT, "2026-11-26", "posted") in runs(vigil))

    # Monday 30 November 09:00: the first weekly digest and review, for week 48.
    vigil.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    vigil.ctx.reports.run_due((WEEKLY, REVIEW))
    eventually(lambda: (WEEKLY, "2026-W48", "posted") in runs(vigil))
    eventually(lambda: (REVIEW, "2026-W48", "posted") in runs(vigil))

    # Down from 1 to 9 December: the restart catches up on the latest missed week, as ever.
    vigil.clock.set(datetime(2026, 12, 9, 14, 0, tzinfo=UTC))
    outcomes = {(r.digest, r.period): r.outcome for r in vigil.ctx.reports.catch_up()}
    assert outcomes[(WEEKLY, "2026-W49")] == "claimed"
    eventually(lambda: (WEEKLY, "2026-W49", "posted") in runs(vigil))
    assert [p for p in digest_channel_posts(vigil) if p.startswith("Weekly T&S")] == [
        "Weekly T&S digest 2026-W48",
        "Weekly T&S digest 2026-W49",
    ]


def test_replicas_starting_together_agree_on_one_first_start(db: Database) -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, datetime] = {}

    def start(name: str, at: datetime) -> None:
        barrier.wait()
        seen[name] = first_start(db, FixedClock(at))

    threads = [
        threading.Thread(target=start, args=("a", INSTALLED)),
        threading.Thread(target=start, args=("b", INSTALLED + timedelta(seconds=5))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["a"] == seen["b"] and seen["a"] in (INSTALLED, INSTALLED + timedelta(seconds=5))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Installation)) == 1
    # A later start reads it, never moves it.
    assert first_start(db, FixedClock(INSTALLED + timedelta(days=30))) == seen["a"]


def test_an_existing_deployment_keeps_its_catch_up_after_the_upgrade(fresh_db_url: str) -> None:
    # Vigil has run here since October, before it recorded its first start.
    migrate.upgrade(fresh_db_url, "0006_reports")
    database = Database(fresh_db_url)
    october = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    try:
        with database.transaction() as session:
            session.add(
                DigestRun(
                    digest=WEEKLY,
                    period="2026-W40",
                    status="posted",
                    round=1,
                    attempts=1,
                    retryable=True,
                    forced=False,
                    claimed_by="old",
                    charts=[],
                    created_at=october,
                    updated_at=october,
                )
            )
        migrate.upgrade(fresh_db_url)
        assert first_start(database, FixedClock(INSTALLED)) == october
    finally:
        database.dispose()

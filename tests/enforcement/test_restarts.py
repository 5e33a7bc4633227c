"""Vigil goes down mid-bulk: killed, or told to stop. Nothing is lost, nothing is called under
two keys, and the work is back in other hands fast.

A real `vigil serve` process runs the bulk against the fake platform, which keeps the calls
open so the process is caught mid-flight. Lease time after the restart is an injected clock:
"within 30 s" is shown on it, never measured.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from store.db import Database
from store.enforcement import EnforcementAction
from tests.harness.enforcement_steps import approve_and_wait, ask, eventually, request_row
from tests.harness.process import VigilProcess
from tests.harness.vigil import VigilFactory
from tests.harness.world import BOT_TOKEN, SIGNING_SECRET, config_data
from workflows.clock import FixedClock
from workflows.enforcement import EnforcerOptions

WAVE = [f"spam_{n:03d}" for n in range(100)]
CONCURRENCY = config_data()["enforcement"]["concurrency"]
CLAIMED = EnforcerOptions().backlog_factor * CONCURRENCY  # what one process holds at once


@pytest.fixture
def serve_process(
    tmp_path: Path, db: Database, fake_slack: FakeSlack, fake_enforcement: FakeEnforcement
) -> Iterator[VigilProcess]:
    process = VigilProcess(
        tmp_path / "serve",
        config_data(),
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "VIGIL_DATABASE_URL": db.url,
            "VIGIL_ENFORCEMENT_URL": fake_enforcement.url,
            "VIGIL_ENFORCEMENT_TOKEN": fake_enforcement.token,
        },
    )
    yield process
    process.kill()


def _statuses(db: Database) -> Counter[str]:
    with db.read() as session:
        return Counter(session.scalars(select(EnforcementAction.status)))


def _actions(db: Database) -> list[EnforcementAction]:
    with db.read() as session:
        return list(session.scalars(select(EnforcementAction)))


def _bulk_caught_mid_flight(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, process: VigilProcess
) -> None:
    """A spam wave is approved in Slack; `vigil serve` starts on it while the platform is slow."""
    fake_enforcement.add(*WAVE)
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts=" ".join(WAVE), evidence="CASE-7 spam wave")
    approve_and_wait(desk)
    desk.stop()
    fake_enforcement.hold()
    process.start()
    eventually(
        lambda: fake_enforcement.open_calls() == CONCURRENCY or not process.running,
        timeout=120,
        what="`vigil serve` to be mid-bulk",
    )
    assert process.running, process.log()
    eventually(lambda: _statuses(desk.db)["running"] == CLAIMED, what="the process to hold its backlog")


def _one_key_per_account(fake: FakeEnforcement) -> None:
    for account in WAVE:
        calls = fake.calls_for(account, "suspend")
        assert calls, f"{account} was never called"
        assert {c.key for c in calls} == {f"vigil:REQ-1:{account}:suspend"}
        assert fake.accounts[account]["state"] == "suspended"


def test_after_kill_9_mid_bulk_a_restarted_vigil_finishes_within_30_s_with_the_same_keys(
    make_vigil: VigilFactory,
    fake_enforcement: FakeEnforcement,
    serve_process: VigilProcess,
    lease_clock: FixedClock,
    db: Database,
) -> None:
    _bulk_caught_mid_flight(make_vigil, fake_enforcement, serve_process)
    serve_process.kill()  # kill -9: no goodbye, its leases stay in the database
    dead = {a.account_id for a in _actions(db) if a.status == "running"}
    assert len(dead) == CLAIMED
    fake_enforcement.release()  # the platform finishes the calls it had; nobody hears back
    eventually(lambda: fake_enforcement.open_calls() == 0, what="the platform to finish")

    # Vigil starts again. The dead process wrote its leases in real time: so does this clock.
    lease_clock.set(datetime.now(UTC))
    again = make_vigil(fake_enforcement)
    again.enforce()  # at once: every action nobody holds
    assert _statuses(db) == Counter({"done": len(WAVE) - CLAIMED, "running": CLAIMED})
    lease_clock.advance(timedelta(seconds=30))  # 30 s after starting again: the dead leases ran out
    again.enforce()
    assert _statuses(db) == Counter({"done": len(WAVE)})
    assert request_row(again).status == "completed"
    _one_key_per_account(fake_enforcement)
    # The calls in flight at the kill landed once; their retry was the platform's replay.
    for account in dead:
        assert len(fake_enforcement.calls_for(account, "suspend")) <= 2
    assert all(len(fake_enforcement.calls_for(a, "suspend")) == 1 for a in set(WAVE) - dead)


def test_sigterm_gives_back_work_not_started_at_once_and_finishes_the_calls_in_flight(
    make_vigil: VigilFactory,
    fake_enforcement: FakeEnforcement,
    serve_process: VigilProcess,
    db: Database,
) -> None:
    _bulk_caught_mid_flight(make_vigil, fake_enforcement, serve_process)
    serve_process.signal(signal.SIGTERM)  # a deploy rolls the pod
    # The claimed backlog that never started is back for anyone, while the calls in flight
    # are still open and still leased by the stopping process.
    eventually(
        lambda: _statuses(db) == Counter({"running": CONCURRENCY, "pending": len(WAVE) - CONCURRENCY}),
        what="the backlog to be given back",
    )
    assert fake_enforcement.open_calls() == CONCURRENCY
    assert serve_process.running
    given_back = [a for a in _actions(db) if a.status == "pending"]
    assert all(a.locked_by is None and a.lease_until is None and a.attempts == 0 for a in given_back)

    fake_enforcement.release()  # the open calls end; the process records them, then exits
    assert serve_process.wait(60) == 0, serve_process.log()
    assert _statuses(db) == Counter({"done": CONCURRENCY, "pending": len(WAVE) - CONCURRENCY})

    again = make_vigil(fake_enforcement)  # the new pod: no lease to wait out
    again.enforce()
    assert _statuses(db) == Counter({"done": len(WAVE)})
    _one_key_per_account(fake_enforcement)
    assert all(len(fake_enforcement.calls_for(a, "suspend")) == 1 for a in WAVE)  # nobody called twice

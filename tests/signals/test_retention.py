"""Signals scale past one table: on PostgreSQL a month per partition, created ahead by the
nightly job and dropped whole once past `signals.retention`; on SQLite deleted by time in
batches. Only raw signals go: rollups keep their own, longer retention, and cases, reports
and the audit log are never touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.scheduler import SCHEDULE
from store import signal_partitions
from store.audit import AuditEntry
from store.db import Database
from store.signals import Report, Signal, SignalId, SignalRollup
from tests.conftest import BACKEND
from tests.harness.world import MONDAY, config_data
from workflows.clock import FixedClock
from workflows.config import ConfigError, VigilConfig, parse_config
from workflows.jobs import JobRunner
from workflows.signals import Signals
from workflows.signals.retention import SignalRetention

on_postgres = pytest.mark.skipif(BACKEND != "postgresql", reason="partitions are PostgreSQL's")
on_sqlite = pytest.mark.skipif(BACKEND == "postgresql", reason="SQLite deletes by time in batches")


@pytest.fixture
def config() -> VigilConfig:
    return parse_config(config_data())


def ingest(db: Database, config: VigilConfig, at: datetime, count: int, prefix: str) -> None:
    """``count`` signals at ``at``, sent when the clock says ``at`` (so any time is valid)."""
    clock = FixedClock(at)
    rows = [
        {
            "id": f"{prefix}-{n}",
            "type": "login",
            "account_id": f"acct_{n % 3}",
            "occurred_at": (at - timedelta(seconds=n)).isoformat(),
            "attributes": {"country": "NL", "reason": "scam"},
        }
        for n in range(count)
    ]
    result = Signals(db, clock, config, jobs=JobRunner(db, clock)).ingest_body(json.dumps(rows).encode())
    assert result.accepted == count


def counts(db: Database, *models: Any) -> list[int]:
    with db.read() as session:
        return [session.scalar(select(func.count()).select_from(model)) or 0 for model in models]


def partitions(db: Database) -> dict[str, datetime]:
    with db.read() as session:
        return signal_partitions.monthly_partitions(session)


def rows_in(db: Database, table: str) -> int:
    with db.read() as session:
        return session.scalar(text(f"SELECT count(*) FROM signal_partitions.{table}")) or 0


def test_the_nightly_job_is_scheduled() -> None:
    assert any(name == "signals-retention" for name, _trigger, _job in SCHEDULE)


@on_postgres
def test_partitions_are_created_ahead_and_a_signal_from_any_time_lands(
    db: Database, config: VigilConfig
) -> None:
    far_future = datetime(2091, 3, 4, 5, 6, tzinfo=UTC)
    ingest(db, config, far_future, 4, "future")  # no partition covers 2091: the default one takes it
    ingest(db, config, datetime(2001, 2, 3, tzinfo=UTC), 2, "past")
    assert rows_in(db, "signals_default") == 6

    # The nightly job in February 2091 creates that month and the three after it; the rows
    # already waiting in the default partition move into their month.
    created = SignalRetention(db, FixedClock(far_future), config).ensure_partitions()
    assert created == ["signals_p209103", "signals_p209104", "signals_p209105", "signals_p209106"]
    assert rows_in(db, "signals_p209103") == 4 and rows_in(db, "signals_default") == 2
    assert counts(db, Signal) == [6]
    # Run again (another replica, the next night): nothing new.
    assert SignalRetention(db, FixedClock(far_future), config).ensure_partitions() == []
    # The month's signals are read through the parent table as before.
    with db.read() as session:
        ids = session.scalars(
            select(Signal.client_id).where(Signal.occurred_at >= far_future - timedelta(hours=1))
        )
        assert sorted(ids) == [f"future-{n}" for n in range(4)]


@on_postgres
def test_retention_drops_whole_months_and_keeps_rollups_longer(db: Database, config: VigilConfig) -> None:
    old = datetime(2025, 3, 15, tzinfo=UTC)
    SignalRetention(db, FixedClock(old), config).ensure_partitions(ahead=0)
    ingest(db, config, old, 5, "old")
    ingest(db, config, datetime(2019, 6, 1, tzinfo=UTC), 3, "ancient")  # default partition
    ingest(db, config, MONDAY - timedelta(days=10), 4, "recent")
    with db.transaction() as session:
        session.add(Report(account_id="acct_1", occurred_at=old, received_at=old, reason="spam"))

    result = SignalRetention(db, FixedClock(MONDAY), config).run()

    assert "signals_p202503" in result.dropped_partitions
    assert "signals_p202503" not in partitions(db)
    assert result.deleted_signals == 3  # the default partition's old rows, by time
    assert result.deleted_ids == 8
    with db.read() as session:
        assert sorted(session.scalars(select(Signal.client_id))) == [f"recent-{n}" for n in range(4)]
    assert counts(db, SignalId, Report) == [4, 1]  # reports are case evidence: never deleted
    # Rollups: 2025 is inside the 730 days they are kept; 2019 is not.
    with db.read() as session:
        years = set(session.scalars(select(func.extract("year", SignalRollup.bucket)).distinct()))
    assert {int(y) for y in years} == {2025, 2026}
    with db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "signals.retention")).one()
    assert entry.actor == "vigil" and "signals_p202503" in json.dumps(entry.data)


@on_sqlite
def test_sqlite_deletes_old_signals_in_batches_and_nothing_else(db: Database, config: VigilConfig) -> None:
    ingest(db, config, datetime(2025, 1, 10, tzinfo=UTC), 25, "old")
    ingest(db, config, datetime(2023, 1, 10, tzinfo=UTC), 2, "ancient")
    ingest(db, config, MONDAY - timedelta(days=179), 6, "kept")

    result = SignalRetention(db, FixedClock(MONDAY), config, batch=10).run()

    assert (result.deleted_signals, result.deleted_ids) == (27, 27)
    assert result.dropped_partitions == []
    with db.read() as session:
        kept = sorted(session.scalars(select(Signal.client_id)))
    assert kept == sorted(f"kept-{n}" for n in range(6))
    assert result.deleted_rollups > 0  # 2023's rollup hour is past 730 days; 2025's is kept
    with db.read() as session:
        hours = sorted(session.scalars(select(SignalRollup.bucket).where(SignalRollup.dimension == "")))
    assert sorted({h.year for h in hours}) == [2025, 2026]
    # A second run finds nothing and writes no audit row.
    assert not SignalRetention(db, FixedClock(MONDAY), config, batch=10).run().removed_anything
    with db.read() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "signals.retention")
            )
            == 1
        )


def test_a_replayed_batch_after_retention_is_not_stored_twice_while_its_ids_are_kept(
    db: Database, config: VigilConfig
) -> None:
    at = MONDAY - timedelta(days=30)
    ingest(db, config, at, 5, "keep")
    SignalRetention(db, FixedClock(MONDAY), config).tick()
    clock = FixedClock(MONDAY)
    again = [
        {"id": f"keep-{n}", "type": "login", "account_id": "acct_1", "occurred_at": at.isoformat()}
        for n in range(5)
    ]
    result = Signals(db, clock, config, jobs=JobRunner(db, clock)).ingest_body(json.dumps(again).encode())
    assert (result.accepted, result.duplicates) == (0, 5)
    assert counts(db, Signal) == [5]


def test_the_retention_is_the_operators_to_set(db: Database) -> None:
    data = config_data()
    data["signals"] = {"retention": "30d", "rollup_retention": "60d"}
    config = parse_config(data)
    ingest(db, config, MONDAY - timedelta(days=40), 3, "older")
    ingest(db, config, MONDAY - timedelta(days=20), 2, "newer")
    result = SignalRetention(db, FixedClock(MONDAY), config).tick()
    assert result.cutoff == MONDAY - timedelta(days=30)
    with db.read() as session:
        assert sorted(session.scalars(select(Signal.client_id))) == ["newer-0", "newer-1"]
    data["signals"] = {"retention": "90d", "rollup_retention": "30d"}
    with pytest.raises(ConfigError, match="rollup_retention"):
        parse_config(data)

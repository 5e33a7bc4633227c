"""The fast ingest path stores exactly what the exact validator would, refuses the same
batches whole, and keeps a retried batch harmless across the move of client ids into their
own table (migration 0012)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from store import migrate
from store import signals as signal_store
from store.db import Database
from store.signals import Signal, SignalId, SignalRollup
from store.urls import normalize_url
from tests.harness.world import MONDAY, config_data
from workflows.clock import FixedClock
from workflows.config import VigilConfig, parse_config
from workflows.jobs import JobRunner
from workflows.signals import BatchRejected, RowValidator, Signals, decode_batch, validate_batch
from workflows.signals.fastpath import fast_rows


@pytest.fixture
def config() -> VigilConfig:
    return parse_config(config_data())


def row(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"fp-{n}",
        "type": "report" if n % 5 == 0 else "login",
        "account_id": f"acct_{n % 4}",
        "occurred_at": (MONDAY - timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
        "value": n % 3 or None,
        "attributes": {"country": "FR", "reason": "spam", "text": "é"} if n % 2 else None,
        **extra,
    }


def both_paths(config: VigilConfig, items: Any) -> tuple[Any, Any]:
    raw = json.dumps(items).encode()
    validator = RowValidator(config, MONDAY)
    fast = fast_rows(raw, validator)
    try:
        exact: Any = validate_batch(decode_batch(raw), validator)
    except BatchRejected as refused:
        exact = refused.status
    return fast, exact


def test_the_fast_path_gives_the_exact_validators_rows(config: VigilConfig) -> None:
    shifted = row(40, id=None, value=2.5, occurred_at="2026-11-23T11:30:00+02:00")
    batch = [*(row(n) for n in range(40)), shifted]
    fast, exact = both_paths(config, {"signals": batch})
    assert fast is not None and fast == exact
    assert fast[-1]["occurred_at"] == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    fast, exact = both_paths(config, batch)  # a bare array too
    assert fast == exact


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": 1_795_000_000},  # epoch seconds: only the exact path reads them
        {"id": 17},  # an integer id: the exact path makes it text
    ],
)
def test_forms_the_fast_path_leaves_to_the_exact_validator_are_still_accepted(
    config: VigilConfig, change: dict[str, Any]
) -> None:
    fast, exact = both_paths(config, [row(1), row(2, **change)])
    assert fast is None and isinstance(exact, list) and len(exact) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"type": "telepathy"},
        {"account_id": "not an id!"},
        {"occurred_at": (MONDAY + timedelta(days=1)).isoformat()},
        {"occurred_at": "1999-12-31T23:00:00Z"},
        {"occurred_at": "2026-11-23T09:00:00"},
        {"value": True},
        {"attributes": {"blob": "x" * 9000}},
        {"type": "report", "attributes": {"text": 5}},
        {"colour": "red"},
        {"attributes": {"deep": json.loads("[" * 70 + "]" * 70)}},
    ],
)
def test_a_bad_row_is_never_taken_by_the_fast_path(config: VigilConfig, change: dict[str, Any]) -> None:
    fast, exact = both_paths(config, [row(1), row(2, **change), row(3)])
    assert fast is None and exact in (400, 422)


def test_a_batch_whose_rollups_fail_leaves_nothing_behind(
    db: Database, config: VigilConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(MONDAY)
    signals = Signals(db, clock, config, jobs=JobRunner(db, clock))
    body = json.dumps([row(n) for n in range(30)]).encode()

    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(signal_store, "add_to_rollups", broken)
    with pytest.raises(RuntimeError):
        signals.ingest_body(body)
    with db.read() as session:
        for model in (Signal, SignalId, SignalRollup):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    monkeypatch.undo()
    assert signals.ingest_body(body).accepted == 30
    with db.read() as session:
        assert session.scalar(select(func.sum(SignalRollup.count)).where(SignalRollup.dimension == "")) == 30
        assert session.scalar(select(func.count()).select_from(SignalId)) == 30


def test_a_batch_stored_before_the_id_table_existed_is_still_a_duplicate_after(
    fresh_db_url: str, config: VigilConfig
) -> None:
    migrate.upgrade(fresh_db_url, "0010_audit_canonical")
    engine = create_engine(normalize_url(fresh_db_url))
    with engine.begin() as conn:
        for n in range(5):
            conn.execute(
                text(
                    "INSERT INTO signals (client_id, type, account_id, occurred_at, value, received_at) "
                    "VALUES (:cid, 'login', 'acct_1', :at, 1, :at)"
                ),
                {"cid": f"fp-{n}", "at": (MONDAY - timedelta(days=40 * n)).replace(tzinfo=None)},
            )
    engine.dispose()
    migrate.upgrade(fresh_db_url)
    db = Database(fresh_db_url)
    try:
        clock = FixedClock(MONDAY)
        signals = Signals(db, clock, config, jobs=JobRunner(db, clock))
        replay = [row(n) for n in range(7)]
        result = signals.ingest_body(json.dumps(replay).encode())
        assert (result.accepted, result.duplicates) == (2, 5)
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Signal)) == 7
            assert session.scalar(select(func.count()).select_from(SignalId)) == 7
    finally:
        db.dispose()

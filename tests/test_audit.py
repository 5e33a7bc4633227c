"""Vigil is the record of what the team decided; nobody can quietly rewrite it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from bot.cli import main
from store.db import Database
from workflows import audit
from workflows.clock import FixedClock


def _write_history(db: Database, clock: FixedClock, n: int = 5) -> None:
    for i in range(n):
        clock.advance(timedelta(minutes=1))
        with db.transaction() as session:
            audit.record(
                session,
                at=clock.now(),
                actor="U0LEAD001",
                action="enforcement.approved",
                subject_type="request",
                subject_id=f"REQ-{i}",
                data={"accounts": ["acct_1"], "n": i, "note": "ünï"},
            )


def _tamper(db: Database, sql: str) -> None:
    """Someone with DBA access goes around the append-only trigger."""
    with db.engine.begin() as conn:
        if db.is_postgres:  # the database is shared by the run: put the guard back after
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            conn.execute(text(sql))


def test_an_intact_chain_verifies(db: Database, clock: FixedClock) -> None:
    _write_history(db, clock)
    with db.read() as session:
        result = audit.verify(session)
    assert result.ok and result.entries == 5


def test_the_database_refuses_to_change_history(db: Database, clock: FixedClock) -> None:
    _write_history(db, clock, 1)
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'U0EVIL001'"))
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_a_changed_row_is_caught(db: Database, clock: FixedClock) -> None:
    _write_history(db, clock)
    _tamper(db, "UPDATE audit_log SET actor = 'U0EVIL001' WHERE seq = 3")
    with db.read() as session:
        result = audit.verify(session)
    assert not result.ok
    assert any("seq 3: content changed" in p for p in result.problems)


def test_a_deleted_row_is_caught(db: Database, clock: FixedClock) -> None:
    _write_history(db, clock)
    _tamper(db, "DELETE FROM audit_log WHERE seq = 2")
    with db.read() as session:
        result = audit.verify(session)
    assert not result.ok
    assert any("missing" in p for p in result.problems)
    assert any("seq 3: prev_hash" in p for p in result.problems)


def test_vigil_audit_verify_exits_non_zero_on_tampering(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_history(db, clock)
    monkeypatch.setenv("VIGIL_DATABASE_URL", db.url)
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "audit log OK: 5 entries" in ok.output
    _tamper(db, "UPDATE audit_log SET subject_id = 'REQ-99' WHERE seq = 4")
    broken = CliRunner().invoke(main, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "seq 4: content changed" in broken.output

"""Vigil is the record of what the team decided; nobody can quietly rewrite it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
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


def _tamper(db: Database, *statements: str) -> None:
    """Someone with DBA access goes around the append-only trigger."""
    with db.engine.begin() as conn:
        if db.is_postgres:  # the database is shared by the run: put the guard back after
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            for sql in statements:
                conn.execute(text(sql))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            for sql in statements:
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


# --- hash versions: the hash covers a text kept as text --------------------------------------------
AWKWARD = {
    "big": 1e20,  # JSONB gives it back as 100000000000000000000
    "negative_zero": -0.0,  # ...and this as 0.0
    "one": 1.0,
    "huge": 1e300,
    "tiny": 1e-7,
    "third": 1 / 3,
    "big_int": 2**70,
    "text": "ünï 😀 кириллица «ok»",
    "nested": [1.5, {"x": -2.5e-10, "flag": True, "none": None}],
}


def _write_awkward(db: Database, clock: FixedClock, n: int = 4) -> None:
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
                data={**AWKWARD, "n": i},
            )


def test_awkward_numbers_and_unicode_verify_on_either_database(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_awkward(db, clock)
    with db.read() as session:
        result = audit.verify(session)
    assert result.ok, result.problems
    monkeypatch.setenv("VIGIL_DATABASE_URL", db.url)
    out = CliRunner().invoke(main, ["audit", "verify"])
    assert out.exit_code == 0 and "audit log OK: 4 entries" in out.output


def _json_set(db: Database, key: str, value: str) -> str:
    if db.is_postgres:
        return f"jsonb_set(data, '{{{key}}}', '{value}')"
    return f"json_set(data, '$.{key}', json('{value}'))"


def test_tampering_with_the_hashed_text_or_with_the_columns_is_caught(
    db: Database, clock: FixedClock
) -> None:
    _write_awkward(db, clock, 5)
    _tamper(
        db,
        "UPDATE audit_log SET canonical = replace(canonical, 'U0LEAD001', 'U0EVIL001') WHERE seq = 2",
        f"UPDATE audit_log SET data = {_json_set(db, 'big', '1e21')} WHERE seq = 3",
        "UPDATE audit_log SET actor = 'U0EVIL001' WHERE seq = 4",
    )
    with db.read() as session:
        problems = audit.verify(session).problems
    assert "seq 2: content changed (hash mismatch, enforcement.approved)" in problems
    assert "seq 3: content changed (data differs from the hashed text, enforcement.approved)" in problems
    assert "seq 4: content changed (actor differs from the hashed text, enforcement.approved)" in problems
    assert not any(p.startswith(("seq 1:", "seq 5:")) for p in problems)


def test_rows_from_before_hash_versions_keep_verifying_and_a_kept_head_stays_valid(
    db: Database, clock: FixedClock
) -> None:
    from store.audit import GENESIS, AuditEntry

    prev = GENESIS
    with db.transaction() as session:  # written by the Vigil of last month: no hash version
        for seq in (1, 2):
            clock.advance(timedelta(minutes=1))
            fields = ("U0LEAD001", "enforcement.approved", "request", f"REQ-{seq}")
            data = {"accounts": ["acct_1"], "n": seq}
            digest = audit._digest(seq, clock.now(), *fields, data, prev)
            session.add(
                AuditEntry(
                    seq=seq,
                    at=clock.now(),
                    actor=fields[0],
                    action=fields[1],
                    subject_type=fields[2],
                    subject_id=fields[3],
                    data=data,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
    with db.read() as session:
        kept_head = audit.verify(session).head  # an operator wrote this down
    _write_awkward(db, clock, 2)
    with db.read() as session:
        result = audit.verify(session)
        versions = [e.hash_version for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        second = session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
    assert result.ok and result.entries == 4
    assert versions == [None, None, 2, 2]
    assert second.hash == kept_head

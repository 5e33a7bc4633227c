"""The audit trail: every enforcement decision and configuration change, hash-chained.

Each row's hash covers its own content and the previous row's hash, so changing or
deleting any row breaks the chain from that point on. ``verify`` walks it, checking each row
by its own hash version:

- version 1 (rows without a version, written before versions existed): the hash of a JSON
  text rebuilt from the columns. On PostgreSQL the data comes back from JSONB, which formats
  numbers its own way (1e20 comes back as 100000000000000000000, -0.0 as 0.0), so such a row
  may look changed when it is not; the method is kept so head hashes operators kept stay valid.
- version 2: the SHA-256 of a canonical text (JSON, sorted keys, no whitespace, floats in
  repr form, UTF-8 unescaped) stored as is in ``canonical``. ``verify`` hashes that text, then
  checks the row's columns say the same as the text (numbers compared by value).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from store import audit as audit_store
from store.audit import GENESIS, AuditEntry, chain_head, iter_entries, lock_chain
from store.base import clean_json, clean_text

HASH_VERSION = 2
_COLUMNS = ("seq", "actor", "action", "subject_type", "subject_id", "prev_hash")


def canonical_text(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """What a version 2 hash covers, exactly: ``data`` must be JSON already (no NaN)."""
    return json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return _sha256(canonical)


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits with the change it records)."""
    entry = {"at": at, "actor": actor, "action": action, "subject_type": subject_type}
    return record_many(session, [{**entry, "subject_id": subject_id, "data": data}])[0]


def record_many(session: Session, entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Append several entries (dicts with record()'s keywords) in order, with one chain lookup.

    For work that records many results at once (a bulk enforcement's batch of outcomes).
    """
    if not entries:
        return []
    rows = [AuditEntry(**values) for values in _chained(session, entries)]
    session.add_all(rows)
    session.flush()
    return rows


def append_batch(session: Session, entries: list[dict[str, Any]]) -> int:
    """record_many for a hot path that needs no row back: one chain lookup and one
    multi-row INSERT, instead of an ORM object per entry (flushed one statement each, to
    fetch ids nobody reads). Returns how many were appended."""
    rows = _chained(session, entries)
    audit_store.insert_entries(session, rows)
    return len(rows)


def _chained(session: Session, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries as audit rows, each hashed onto the one before, under the chain lock."""
    if not entries:
        return []
    lock_chain(session)
    seq, prev = chain_head(session) or (0, GENESIS)
    rows = []
    for entry in entries:
        # Plain JSON, cleaned as the columns will store it: the text hashed is the text kept.
        payload = clean_json(json.loads(json.dumps(entry.get("data") or {}, default=str)))
        seq += 1
        at = entry["at"].astimezone(UTC)  # as the column gives it back
        actor, action = clean_text(entry["actor"]), clean_text(entry["action"])
        subject_type, subject_id = clean_text(entry["subject_type"]), clean_text(entry["subject_id"])
        canonical = canonical_text(seq, at, actor, action, subject_type, subject_id, payload, prev)
        digest = _sha256(canonical)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "data": payload,
                "prev_hash": prev,
                "hash": digest,
                "hash_version": HASH_VERSION,
                "canonical": canonical,
            }
        )
        prev = digest
    return rows


@dataclass
class Verification:
    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, max_problems: int = 20) -> Verification:
    result = Verification()
    prev_hash, expected_seq = GENESIS, 1
    for entry in iter_entries(session):
        result.entries += 1
        if entry.seq != expected_seq:
            result.problems.append(
                f"seq {expected_seq}..{entry.seq - 1}: missing (rows deleted before seq {entry.seq})"
            )
        if entry.prev_hash != prev_hash:
            result.problems.append(f"seq {entry.seq}: prev_hash does not match the previous row's hash")
        problem = _check(entry)
        if problem:
            result.problems.append(f"seq {entry.seq}: {problem}")
        prev_hash, expected_seq = entry.hash, entry.seq + 1
        if len(result.problems) >= max_problems:
            result.problems.append("… stopping after too many problems")
            break
    result.head = prev_hash
    return result


def _check(entry: AuditEntry) -> str | None:
    """What is wrong with one row, by its own hash version; None if nothing."""
    if entry.hash_version is None:
        recomputed = _digest(
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.subject_type,
            entry.subject_id,
            entry.data,
            entry.prev_hash,
        )
        return None if recomputed == entry.hash else f"content changed (hash mismatch, {entry.action})"
    if entry.hash_version != HASH_VERSION:
        return f"unknown hash version {entry.hash_version} (a newer Vigil wrote it?)"
    if entry.canonical is None or _sha256(entry.canonical) != entry.hash:
        return f"content changed (hash mismatch, {entry.action})"
    try:
        hashed = json.loads(entry.canonical)
    except ValueError:
        return f"content changed (hashed text is not JSON, {entry.action})"
    columns: dict[str, Any] = {name: getattr(entry, name) for name in _COLUMNS}
    columns["at"] = entry.at.isoformat(timespec="microseconds")
    for name, value in columns.items():
        if hashed.get(name) != value:
            return f"content changed ({name} differs from the hashed text, {entry.action})"
    if not _same_json(hashed.get("data"), entry.data):
        return f"content changed (data differs from the hashed text, {entry.action})"
    return None


def _same_json(hashed: Any, stored: Any) -> bool:
    """Equal as JSON values, numbers by their decimal value: JSONB gives back 1e20 as
    100000000000000000000 and -0.0 as 0.0, and that is not tampering."""
    if isinstance(hashed, bool) or isinstance(stored, bool):
        return type(hashed) is type(stored) and hashed == stored
    if isinstance(hashed, int | float) and isinstance(stored, int | float):
        return _decimal(hashed) == _decimal(stored)
    if isinstance(hashed, dict) and isinstance(stored, dict):
        return hashed.keys() == stored.keys() and all(_same_json(hashed[k], stored[k]) for k in hashed)
    if isinstance(hashed, list) and isinstance(stored, list):
        return len(hashed) == len(stored) and all(
            _same_json(h, s) for h, s in zip(hashed, stored, strict=True)
        )
    return type(hashed) is type(stored) and hashed == stored


def _decimal(number: int | float) -> Decimal:
    # repr is the shortest text that round-trips, the one json.dumps wrote and JSONB parsed.
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)

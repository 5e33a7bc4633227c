"""The audit trail: every enforcement decision and configuration change, hash-chained.

Each row's hash covers its own content and the previous row's hash, so changing or
deleting any row breaks the chain from that point on. ``verify`` walks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store.audit import GENESIS, AuditEntry, iter_entries, last_entry, lock_chain


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
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
    lock_chain(session)
    last = last_entry(session)
    seq = last.seq if last else 0
    prev = last.hash if last else GENESIS
    rows = []
    for entry in entries:
        # JSON round trip first: what we hash must be exactly what the database gives back.
        payload = json.loads(json.dumps(entry.get("data") or {}, default=str))
        seq += 1
        at, actor, action = entry["at"], entry["actor"], entry["action"]
        subject_type, subject_id = entry["subject_type"], entry["subject_id"]
        digest = _digest(seq, at, actor, action, subject_type, subject_id, payload, prev)
        rows.append(
            AuditEntry(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                data=payload,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.add_all(rows)
    session.flush()
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
        if recomputed != entry.hash:
            result.problems.append(f"seq {entry.seq}: content changed (hash mismatch, {entry.action})")
        prev_hash, expected_seq = entry.hash, entry.seq + 1
        if len(result.problems) >= max_problems:
            result.problems.append("… stopping after too many problems")
            break
    result.head = prev_hash
    return result

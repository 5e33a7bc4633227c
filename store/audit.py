"""The append-only, hash-chained audit log table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, JSONType, UTCDateTime

GENESIS = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # seq is assigned under the chain lock, so a gap means a deleted row.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How ``hash`` was made (workflows/audit.py). NULL: version 1, rows written before
    # versions existed (recomputed from the columns). 2: the SHA-256 of ``canonical``, the
    # exact text hashed, kept as text so no database's JSON number formatting touches it.
    hash_version: Mapped[int | None] = mapped_column(Integer)
    canonical: Mapped[str | None] = mapped_column(Text)


def lock_chain(session: Session) -> None:
    """Serialise appends so two writers never fork the chain.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every write transaction is
    BEGIN IMMEDIATE already (store/db.py), which serialises writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7361626)"))


def last_entry(session: Session) -> AuditEntry | None:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def chain_head(session: Session) -> tuple[int, str] | None:
    """The last entry's seq and hash: all an append needs, without loading the row."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else None


def insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    """Chained rows (workflows/audit.py made them) in one multi-row INSERT."""
    if rows:
        session.execute(insert(AuditEntry), rows)


def iter_entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    last_seq = -1
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq
        session.expunge_all()

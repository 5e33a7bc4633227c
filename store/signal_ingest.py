"""Writing signal rows and their client ids: the ingest hot path, below SQLAlchemy.

``COPY`` on PostgreSQL, the driver's ``executemany`` on SQLite: the per-row statement
machinery (type processing, parameter dicts) cost more than the database's own insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")
ID_CHUNK = 5000  # under SQLite's and psycopg's bound-parameter limits

__all__ = ["ID_CHUNK", "chunked", "insert_signals", "known_client_ids"]


def chunked(items: Sequence[T], size: int = ID_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqlite_time(at: datetime) -> str:
    # Exactly SQLAlchemy's SQLite DATETIME storage format (naive UTC; comparisons are
    # textual). Every time here is already in UTC, so the "+00:00" suffix is what is cut.
    return at.isoformat(" ", "microseconds")[:-6]


def known_client_ids(session: Session, client_ids: Iterable[str]) -> set[str]:
    """Which of these client ids are already stored."""
    known: set[str] = set()
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for chunk in chunked(sorted(client_ids)):
        # Driver-level: SQLAlchemy's expansion of a 5,000-value IN costs more than the query.
        found = connection.exec_driver_sql(
            f"SELECT client_id FROM signal_ids WHERE client_id IN ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        )
        known.update(found.scalars())
    return known


_SIGNAL_COLUMNS = "client_id, type, account_id, occurred_at, value, attributes, received_at"


def insert_signals(session: Session, rows: Sequence[Mapping[str, Any]], received_at: datetime) -> None:
    """Validated rows (workflows/signals/intake.py's shape, times in UTC), all stamped with
    the batch's ``received_at``, and their client ids. Below SQLAlchemy: ``COPY`` on
    PostgreSQL, the driver's ``executemany`` on SQLite (the per-row statement machinery cost
    more than the database's insert)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_signals(connection, rows, received_at)
        return
    when = _sqlite_time
    received = when(received_at)
    signals = [
        (
            row["client_id"],
            row["type"],
            row["account_id"],
            when(row["occurred_at"]),
            row["value"],
            row["attributes_json"],
            received,
        )
        for row in rows
    ]
    connection.exec_driver_sql(
        f"INSERT INTO signals ({_SIGNAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        signals,  # type: ignore[arg-type]
    )
    ids = [(signal[0], signal[3]) for signal in signals if signal[0]]
    if ids:
        connection.exec_driver_sql(
            "INSERT INTO signal_ids (client_id, occurred_at) VALUES (?, ?)",
            ids,  # type: ignore[arg-type]
        )


def _copy_signals(connection: Any, rows: Sequence[Mapping[str, Any]], received_at: datetime) -> None:
    from psycopg import errors  # only on PostgreSQL, where psycopg is installed

    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY signals ({_SIGNAL_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        row["client_id"],
                        row["type"],
                        row["account_id"],
                        row["occurred_at"],
                        row["value"],
                        row["attributes_json"],
                        received_at,
                    )
                )
        with cursor.copy("COPY signal_ids (client_id, occurred_at) FROM STDIN") as copy:
            for row in rows:
                if row["client_id"]:
                    copy.write_row((row["client_id"], row["occurred_at"]))
    except errors.UniqueViolation as exc:
        # A concurrent batch stored the same ids between our lookup and our COPY: the
        # caller's retry (on IntegrityError, as for an INSERT) finds them stored.
        raise IntegrityError("COPY signal_ids", None, exc) from exc
    finally:
        cursor.close()

"""The signals table's time layout: monthly partitions on PostgreSQL (created ahead, dropped
whole when past retention), deletes by time in batches elsewhere.

Partitions live in the ``signal_partitions`` schema and are named ``signals_pYYYYMM``; the
default partition ``signals_default`` takes any signal no monthly partition covers (far past
or far future), so ingest never refuses one for its time. Migration 0012 made the layout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

SCHEMA = "signal_partitions"
DEFAULT = "signals_default"
_MONTHLY = re.compile(r"^signals_p(\d{4})(\d{2})$")
# Serialises partition work between replicas running the same scheduled job.
_LOCK_KEY = 0x5167_7061  # "Sgpa"


def month_start(at: datetime, add: int = 0) -> datetime:
    """The first instant (UTC) of the month of ``at``, ``add`` months on."""
    at = at.astimezone(UTC)
    index = at.year * 12 + at.month - 1 + add
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def is_partitioned(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('signals'))"
            )
        )
    )


def monthly_partitions(session: Session) -> dict[str, datetime]:
    """Each monthly partition attached to ``signals`` and the month it holds."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('signals')"
        )
    )
    out: dict[str, datetime] = {}
    for name in names:
        found = _MONTHLY.match(name)
        if found:
            out[name] = datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC)
    return out


def lock(session: Session) -> None:
    """Held until the caller's transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def create_partition(session: Session, start: datetime) -> str | None:
    """The month's partition, unless it exists (then None). Rows of that month already in the
    default partition move into it first: PostgreSQL refuses a partition whose range the
    default partition holds rows of."""
    start = month_start(start)
    end = month_start(start, 1)
    name = f"signals_p{start:%Y%m}"
    if name in monthly_partitions(session):
        return None
    bounds = {"lo": start, "hi": end}
    session.execute(text(f"CREATE TABLE {SCHEMA}.{name} (LIKE signals INCLUDING DEFAULTS)"))
    session.execute(
        text(
            f"WITH moved AS (DELETE FROM {SCHEMA}.{DEFAULT} "
            "WHERE occurred_at >= :lo AND occurred_at < :hi RETURNING *) "
            f"INSERT INTO {SCHEMA}.{name} SELECT * FROM moved"
        ),
        bounds,
    )
    session.execute(
        text(
            f"ALTER TABLE signals ATTACH PARTITION {SCHEMA}.{name} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    return name


def drop_partitions_before(session: Session, cutoff: datetime) -> list[str]:
    """Drops every monthly partition whose whole month ends at or before ``cutoff``."""
    dropped = []
    for name, start in sorted(monthly_partitions(session).items(), key=lambda item: item[1]):
        if month_start(start, 1) <= cutoff:
            session.execute(text(f"DROP TABLE {SCHEMA}.{name}"))
            dropped.append(name)
    return dropped


def delete_signals_before(session: Session, cutoff: datetime, limit: int, *, default_only: bool) -> int:
    """Deletes at most ``limit`` signals older than ``cutoff``; how many it deleted. With
    ``default_only`` (PostgreSQL) only the default partition is touched: the monthly ones
    go whole."""
    where = f"{SCHEMA}.{DEFAULT}" if default_only else "signals"
    cut = cutoff if session.get_bind().dialect.name == "postgresql" else _sqlite_time(cutoff)
    result = session.execute(
        text(
            f"DELETE FROM {where} WHERE id IN (SELECT id FROM {where} WHERE occurred_at < :cut LIMIT :limit)"
        ),
        {"cut": cut, "limit": limit},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_signal_ids_before(session: Session, cutoff: datetime, limit: int) -> int:
    cut = cutoff if session.get_bind().dialect.name == "postgresql" else _sqlite_time(cutoff)
    result = session.execute(
        text(
            "DELETE FROM signal_ids WHERE client_id IN "
            "(SELECT client_id FROM signal_ids WHERE occurred_at < :cut LIMIT :limit)"
        ),
        {"cut": cut, "limit": limit},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_rollups_before(session: Session, cutoff: datetime) -> int:
    """Rollups are a few thousand rows a day: one statement."""
    cut = cutoff if session.get_bind().dialect.name == "postgresql" else _sqlite_time(cutoff)
    result = session.execute(text("DELETE FROM signal_rollups WHERE bucket < :cut"), {"cut": cut})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _sqlite_time(at: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text for a UTC time (comparisons there are textual).
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

"""signal partitions: signals range-partitioned by month on PostgreSQL, client ids in signal_ids

Revision ID: 0012_signal_partitions
Revises: 0011_anomaly_incidents
Create Date: 2026-12-04

On PostgreSQL a unique index on a partitioned table must contain the partition key, so the
client id's uniqueness (what makes a retried batch harmless) moves to its own table,
``signal_ids``, on both stores (one code path). PostgreSQL's ``signals`` becomes a table
partitioned by ``occurred_at``: one partition per month that holds rows, the current month
and the next three (the scheduled job keeps creating them ahead), and a default partition so
that a signal from any time is stored, never refused. SQLite keeps one table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from store.base import UTCDateTime

revision: str = "0012_signal_partitions"
down_revision: str | None = "0011_anomaly_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = 3  # months created ahead at migration time; the scheduled job keeps this many
# Partitions live in their own schema, so that listing the application's tables (Alembic's
# comparison, psql's \dt) shows one ``signals`` table, not one per month.
SCHEMA = "signal_partitions"


def _month(at: datetime, add: int = 0) -> datetime:
    index = at.year * 12 + at.month - 1 + add
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _create_partition(start: datetime) -> None:
    end = _month(start, 1)
    op.execute(
        f"CREATE TABLE {SCHEMA}.signals_p{start:%Y%m} PARTITION OF signals "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def upgrade() -> None:
    op.create_table(
        "signal_ids",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_signal_ids"),
        sqlite_with_rowid=False,  # one B-tree keyed by the id, not a rowid table plus an index
    )
    op.create_index("ix_signal_ids_occurred_at", "signal_ids", ["occurred_at"])
    op.execute(
        "INSERT INTO signal_ids (client_id, occurred_at) "
        "SELECT client_id, occurred_at FROM signals WHERE client_id IS NOT NULL"
    )
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("signals") as batch:
            batch.drop_constraint("uq_signals_client_id", type_="unique")
        return

    bind = op.get_bind()
    op.execute("ALTER TABLE signals RENAME TO signals_unpartitioned")
    op.execute("ALTER INDEX pk_signals RENAME TO pk_signals_unpartitioned")
    op.execute("ALTER TABLE signals_unpartitioned DROP CONSTRAINT uq_signals_client_id")
    op.execute("DROP INDEX ix_signals_account_id_occurred_at")
    op.execute("DROP INDEX ix_signals_type_occurred_at")
    op.execute(
        """
        CREATE TABLE signals (
            id INTEGER NOT NULL DEFAULT nextval('signals_id_seq'),
            client_id VARCHAR(128),
            type VARCHAR(32) NOT NULL,
            account_id VARCHAR(64) NOT NULL,
            occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
            value FLOAT,
            attributes JSONB,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            CONSTRAINT pk_signals PRIMARY KEY (id, occurred_at)
        ) PARTITION BY RANGE (occurred_at)
        """
    )
    op.create_index("ix_signals_account_id_occurred_at", "signals", ["account_id", "occurred_at"])
    op.create_index("ix_signals_type_occurred_at", "signals", ["type", "occurred_at", "account_id"])
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(f"CREATE TABLE {SCHEMA}.signals_default PARTITION OF signals DEFAULT")
    first, last = bind.execute(
        sa.text("SELECT min(occurred_at), max(occurred_at) FROM signals_unpartitioned")
    ).one()
    now = datetime.now(UTC)
    start = _month(min(first, now) if first else now)
    stop = _month(max(last, now) if last else now, AHEAD + 1)
    # Months in between that hold no rows get a partition too: cheap, and no gaps to reason about.
    while start < stop:
        _create_partition(start)
        start = _month(start, 1)
    op.execute("INSERT INTO signals SELECT * FROM signals_unpartitioned")
    op.execute("ALTER SEQUENCE signals_id_seq OWNED BY signals.id")
    op.execute("DROP TABLE signals_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE signals RENAME TO signals_partitioned")
        op.execute("ALTER INDEX pk_signals RENAME TO pk_signals_partitioned")
        op.execute("ALTER INDEX ix_signals_account_id_occurred_at RENAME TO ix_signals_acct_partitioned")
        op.execute("ALTER INDEX ix_signals_type_occurred_at RENAME TO ix_signals_type_partitioned")
        op.execute(
            """
            CREATE TABLE signals (
                id INTEGER NOT NULL DEFAULT nextval('signals_id_seq'),
                client_id VARCHAR(128),
                type VARCHAR(32) NOT NULL,
                account_id VARCHAR(64) NOT NULL,
                occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
                value FLOAT,
                attributes JSONB,
                received_at TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT pk_signals PRIMARY KEY (id),
                CONSTRAINT uq_signals_client_id UNIQUE (client_id)
            )
            """
        )
        op.execute("INSERT INTO signals SELECT * FROM signals_partitioned")
        op.execute("ALTER SEQUENCE signals_id_seq OWNED BY signals.id")
        op.execute("DROP TABLE signals_partitioned")
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        op.create_index("ix_signals_account_id_occurred_at", "signals", ["account_id", "occurred_at"])
        op.create_index("ix_signals_type_occurred_at", "signals", ["type", "occurred_at", "account_id"])
    else:
        with op.batch_alter_table("signals") as batch:
            batch.create_unique_constraint("uq_signals_client_id", ["client_id"])
    op.drop_index("ix_signal_ids_occurred_at", table_name="signal_ids")
    op.drop_table("signal_ids")

"""signals: telemetry, hourly rollups, shared-attribute links, reports, anomalies, investigations

Revision ID: 0005_signals
Revises: 0004_playbooks
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0005_signals"
down_revision: str | None = "0004_playbooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("attributes", JSON),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
        sa.UniqueConstraint("client_id", name="uq_signals_client_id"),
    )
    op.create_index("ix_signals_account_id_occurred_at", "signals", ["account_id", "occurred_at"])
    op.create_index("ix_signals_type_occurred_at", "signals", ["type", "occurred_at", "account_id"])

    op.create_table(
        "signal_rollups",
        sa.Column("bucket", UTCDateTime(), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("dim_value", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("value_sum", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("bucket", "signal_type", "dimension", "dim_value", name="pk_signal_rollups"),
    )
    op.create_index("ix_signal_rollups_signal_type_bucket", "signal_rollups", ["signal_type", "bucket"])

    op.create_table(
        "signal_links",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", "value", "account_id", name="pk_signal_links"),
    )
    op.create_index("ix_signal_links_account_id", "signal_links", ["account_id"])

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("reporter", sa.String(128)),
        sa.Column("reason", sa.String(64)),
        sa.Column("text", sa.Text),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("routed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("client_id", name="uq_reports_client_id"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_reports_case_id_cases"),
    )
    op.create_index("ix_reports_account_id", "reports", ["account_id"])
    op.create_index("ix_reports_case_id", "reports", ["case_id"])

    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("bucket", UTCDateTime(), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("dim_value", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("observed", sa.Float, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("feedback", sa.String(16)),
        sa.Column("feedback_by", sa.String(32)),
        sa.Column("feedback_at", UTCDateTime()),
        sa.Column("snoozed_until", UTCDateTime()),
        sa.Column("channel", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("chart_file_id", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_anomalies"),
        sa.UniqueConstraint("key", name="uq_anomalies_key"),
    )
    op.create_index("ix_anomalies_bucket", "anomalies", ["bucket"])
    op.create_index("ix_anomalies_series", "anomalies", ["signal_type", "dimension", "dim_value", "kind"])

    op.create_table(
        "investigations",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("open_key", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(32), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("anomaly_id", sa.Integer),
        sa.Column("outcome", sa.String(32)),
        sa.Column("findings", sa.Text),
        sa.Column("closed_by", sa.String(32)),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("channel", sa.String(32)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_investigations"),
        sa.UniqueConstraint("open_key", name="uq_investigations_open_key"),
        sa.ForeignKeyConstraint(
            ["anomaly_id"], ["anomalies.id"], name="fk_investigations_anomaly_id_anomalies"
        ),
    )
    op.create_index("ix_investigations_account_id", "investigations", ["account_id"])
    op.create_index("ix_investigations_opened_by", "investigations", ["opened_by"])

    op.create_table(
        "investigation_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("investigation_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(32)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_investigation_events"),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name="fk_investigation_events_investigation_id_investigations",
        ),
    )
    op.create_index("ix_investigation_events_investigation_id", "investigation_events", ["investigation_id"])


def downgrade() -> None:
    op.drop_index("ix_investigation_events_investigation_id", table_name="investigation_events")
    op.drop_table("investigation_events")
    op.drop_index("ix_investigations_opened_by", table_name="investigations")
    op.drop_index("ix_investigations_account_id", table_name="investigations")
    op.drop_table("investigations")
    op.drop_index("ix_anomalies_series", table_name="anomalies")
    op.drop_index("ix_anomalies_bucket", table_name="anomalies")
    op.drop_table("anomalies")
    op.drop_index("ix_reports_case_id", table_name="reports")
    op.drop_index("ix_reports_account_id", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_signal_links_account_id", table_name="signal_links")
    op.drop_table("signal_links")
    op.drop_index("ix_signal_rollups_signal_type_bucket", table_name="signal_rollups")
    op.drop_table("signal_rollups")
    op.drop_index("ix_signals_type_occurred_at", table_name="signals")
    op.drop_index("ix_signals_account_id_occurred_at", table_name="signals")
    op.drop_table("signals")

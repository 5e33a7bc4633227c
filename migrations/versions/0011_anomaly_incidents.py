"""anomaly incidents: one per episode, each series' daily alert budget, dismissed shapes

Revision ID: 0011_anomaly_incidents
Revises: 0010_audit_canonical
Create Date: 2026-12-04

New tables only: the hourly anomalies stay as they are (each incident groups them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0011_anomaly_incidents"
down_revision: str | None = "0010_audit_canonical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "anomaly_incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("dim_value", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("last_hour", UTCDateTime(), nullable=False),
        sa.Column("hours", sa.Integer, nullable=False),
        sa.Column("peak_score", sa.Float, nullable=False),
        sa.Column("peak_observed", sa.Float, nullable=False),
        sa.Column("peak_baseline", sa.Float, nullable=False),
        sa.Column("peak_hour", UTCDateTime(), nullable=False),
        sa.Column("peak_anomaly_id", sa.Integer),
        sa.Column("expected", sa.String(128)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("feedback", sa.String(16)),
        sa.Column("feedback_by", sa.String(32)),
        sa.Column("feedback_at", UTCDateTime()),
        sa.Column("snoozed_until", UTCDateTime()),
        sa.Column("shape_id", sa.Integer),
        sa.Column("alert_day_id", sa.Integer),
        sa.Column("data", JSON, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("chart_file_id", sa.String(32)),
        sa.Column("closed_reply_ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_anomaly_incidents"),
        sa.UniqueConstraint("key", name="uq_anomaly_incidents_key"),
    )
    op.create_index(
        "ix_anomaly_incidents_series", "anomaly_incidents", ["signal_type", "dimension", "dim_value", "kind"]
    )
    op.create_index("ix_anomaly_incidents_state", "anomaly_incidents", ["state"])
    op.create_index("ix_anomaly_incidents_alert_day_id", "anomaly_incidents", ["alert_day_id"])
    op.create_table(
        "anomaly_alert_days",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("dim_value", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("posted", sa.Integer, nullable=False),
        sa.Column("overflow", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_anomaly_alert_days"),
        sa.UniqueConstraint(
            "signal_type", "dimension", "dim_value", "day", name="uq_anomaly_alert_days_signal_type"
        ),
    )
    op.create_table(
        "anomaly_shapes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("dim_value", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("slots", JSON, nullable=False),
        sa.Column("min_score", sa.Float, nullable=False),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("forgotten_by", sa.String(32)),
        sa.Column("forgotten_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_anomaly_shapes"),
        sa.UniqueConstraint("incident_id", name="uq_anomaly_shapes_incident_id"),
    )


def downgrade() -> None:
    op.drop_table("anomaly_shapes")
    op.drop_table("anomaly_alert_days")
    op.drop_index("ix_anomaly_incidents_alert_day_id", table_name="anomaly_incidents")
    op.drop_index("ix_anomaly_incidents_state", table_name="anomaly_incidents")
    op.drop_index("ix_anomaly_incidents_series", table_name="anomaly_incidents")
    op.drop_table("anomaly_incidents")

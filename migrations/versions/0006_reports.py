"""reports: digest runs, one per digest and period (the exactly-once guard)

Revision ID: 0006_reports
Revises: 0005_signals
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0006_reports"
down_revision: str | None = "0005_signals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retryable", sa.Boolean, nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("channel", sa.String(32)),
        sa.Column("ts", sa.String(32)),
        sa.Column("charts", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("posted_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_digest_runs"),
        sa.UniqueConstraint("digest", "period", name="uq_digest_runs_digest_period"),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")

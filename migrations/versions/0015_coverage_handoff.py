"""coverage findings (how each confirmed abuse was first found, and its delay) and hand-offs to Engineering

Revision ID: 0015_coverage_handoff
Revises: 0014_patterns
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0015_coverage_handoff"
down_revision: str | None = "0014_patterns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "coverage_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("confirmed_by", sa.String(32), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(64), nullable=False),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.Column("first_signal_ref", sa.String(64)),
        sa.Column("first_signal_at", UTCDateTime(), nullable=False),
        sa.Column("delay_seconds", sa.Float, nullable=False),
        sa.Column("pattern_ref", sa.String(32)),
        sa.Column("rule_matched", sa.Boolean, nullable=False),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("derived_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "category", name="uq_coverage_findings_account_category"),
    )
    op.create_index("ix_coverage_findings_confirmed_at", "coverage_findings", ["confirmed_at"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_ref", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("impact", sa.Text, nullable=False),
        sa.Column("mitigation", sa.Text, nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ticket_key", sa.String(32)),
        sa.Column("ticket_url", sa.String(300)),
        sa.Column("ticket_status", sa.String(64)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("told_failure", sa.Boolean, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("thread_ts", sa.String(32)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime()),
    )
    op.create_index("ix_handoffs_subject", "handoffs", ["subject_type", "subject_ref"])
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    op.create_index("ix_handoffs_ticket_key", "handoffs", ["ticket_key"])
    op.create_table(
        "review_pages",
        sa.Column("week", sa.String(10), primary_key=True),
        sa.Column("page_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_pages")
    op.drop_index("ix_handoffs_ticket_key", table_name="handoffs")
    op.drop_index("ix_handoffs_status", table_name="handoffs")
    op.drop_index("ix_handoffs_subject", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_index("ix_coverage_findings_confirmed_at", table_name="coverage_findings")
    op.drop_table("coverage_findings")

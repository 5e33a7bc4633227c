"""coverage findings: how each confirmed abuse was first found, and its detection delay

Revision ID: 0015_coverage_handoff
Revises: 0010_audit_canonical
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0015_coverage_handoff"
down_revision: str | None = "0010_audit_canonical"
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


def downgrade() -> None:
    op.drop_index("ix_coverage_findings_confirmed_at", table_name="coverage_findings")
    op.drop_table("coverage_findings")

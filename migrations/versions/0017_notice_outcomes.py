"""notice outcomes: each reporter told the decision on their report, once (DSA Art. 16(5))

Revision ID: 0017_notice_outcomes
Revises: 0016_decisions
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.base import UTCDateTime

revision: str = "0017_notice_outcomes"
down_revision: str | None = "0016_decisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("reporter", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("puid", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("told_at", UTCDateTime()),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], name="fk_notice_outcomes_report_id_reports"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_notice_outcomes_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_notice_outcomes"),
        sa.UniqueConstraint("report_id", name="uq_notice_outcomes_report_id"),
    )
    op.create_index("ix_notice_outcomes_case_id", "notice_outcomes", ["case_id"])


def downgrade() -> None:
    op.drop_table("notice_outcomes")

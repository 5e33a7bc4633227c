"""cases: escalations, their timeline, and the accounts they mention

Revision ID: 0002_cases
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0002_cases"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("author", sa.String(32)),
        sa.Column("author_is_bot", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sla_due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(32)),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("resolved_by", sa.String(32)),
        sa.Column("resolved_at", UTCDateTime()),
        sa.Column("sla_nudged_at", UTCDateTime()),
        sa.Column("sla_breached_at", UTCDateTime()),
        sa.Column("source_deleted", sa.Boolean, nullable=False),
        sa.Column("card_ts", sa.String(32)),
        sa.Column("permalink", sa.String(300)),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("channel", "ts", name="uq_cases_channel_ts"),
    )
    op.create_index("ix_cases_status_priority", "cases", ["status", "priority"])
    op.create_index("ix_cases_category", "cases", ["category"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_sla_due_at", "cases", ["sla_due_at"])
    op.create_index("ix_cases_claimed_by", "cases", ["claimed_by"])

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(32)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_events_case_id_cases"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])

    op.create_table(
        "case_accounts",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "account_id", name="pk_case_accounts"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_accounts_case_id_cases"),
    )
    op.create_index("ix_case_accounts_account_id", "case_accounts", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_case_accounts_account_id", table_name="case_accounts")
    op.drop_table("case_accounts")
    op.drop_index("ix_case_events_case_id", table_name="case_events")
    op.drop_table("case_events")
    for index in ("claimed_by", "sla_due_at", "created_at", "category", "status_priority"):
        op.drop_index(f"ix_cases_{index}", table_name="cases")
    op.drop_table("cases")

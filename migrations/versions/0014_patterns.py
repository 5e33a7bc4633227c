"""patterns: abuse patterns (PAT-n), their members, the rules drafted from them and what names them

Revision ID: 0014_patterns
Revises: 0013_ai
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0014_patterns"
down_revision: str | None = "0013_ai"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "patterns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(200)),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("feedback", sa.String(16)),
        sa.Column("feedback_by", sa.String(32)),
        sa.Column("feedback_at", UTCDateTime()),
        sa.Column("named_by", sa.String(32)),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("account_count", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("prev_day", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("prev_week", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float()),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("examples", JSON, nullable=False),
        sa.Column("top_accounts", JSON, nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name="pk_patterns"),
        sa.UniqueConstraint("signature", name="uq_patterns_signature"),
    )
    op.create_index("ix_patterns_last_seen", "patterns", ["last_seen"])
    op.create_table(
        "pattern_members",
        sa.Column("pattern_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(300), nullable=False),
        sa.Column("account_id", sa.String(64)),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pattern_id"], ["patterns.id"], name="fk_pattern_members_pattern_id_patterns"
        ),
        sa.PrimaryKeyConstraint("pattern_id", "item_key", name="pk_pattern_members"),
    )
    op.create_index("ix_pattern_members_item_key", "pattern_members", ["item_key"])
    op.create_index("ix_pattern_members_account_id", "pattern_members", ["account_id"])
    op.create_table(
        "pattern_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pattern_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("backtest", JSON, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("saved_by", sa.String(32)),
        sa.Column("saved_at", UTCDateTime()),
        sa.Column("path", sa.String(300)),
        sa.ForeignKeyConstraint(["pattern_id"], ["patterns.id"], name="fk_pattern_rules_pattern_id_patterns"),
        sa.PrimaryKeyConstraint("id", name="pk_pattern_rules"),
    )
    op.create_index("ix_pattern_rules_pattern_id", "pattern_rules", ["pattern_id"])
    op.create_table(
        "pattern_links",
        sa.Column("pattern_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("linked_by", sa.String(32)),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pattern_id"], ["patterns.id"], name="fk_pattern_links_pattern_id_patterns"),
        sa.PrimaryKeyConstraint("pattern_id", "subject", name="pk_pattern_links"),
    )
    op.create_index("ix_pattern_links_subject", "pattern_links", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_pattern_links_subject", table_name="pattern_links")
    op.drop_table("pattern_links")
    op.drop_index("ix_pattern_rules_pattern_id", table_name="pattern_rules")
    op.drop_table("pattern_rules")
    op.drop_index("ix_pattern_members_account_id", table_name="pattern_members")
    op.drop_index("ix_pattern_members_item_key", table_name="pattern_members")
    op.drop_table("pattern_members")
    op.drop_index("ix_patterns_last_seen", table_name="patterns")
    op.drop_table("patterns")

"""ai: every call to a language model (ai_calls) and the triage suggestions of new cases

Revision ID: 0013_ai
Revises: 0012_signal_partitions
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.base import UTCDateTime

revision: str = "0013_ai"
down_revision: str | None = "0012_signal_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_calls",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("template_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("tokens_in", sa.Integer, nullable=False),
        sa.Column("tokens_out", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("subject", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_ai_calls"),
    )
    op.create_index("ix_ai_calls_at", "ai_calls", ["at"])
    op.create_table(
        "ai_suggestions",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("fallback", sa.String(32)),
        sa.Column("final_category", sa.String(32)),
        sa.Column("final_priority", sa.String(2)),
        sa.Column("category_kept", sa.Boolean),
        sa.Column("priority_kept", sa.Boolean),
        sa.Column("resolved_at", UTCDateTime()),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_ai_suggestions_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", name="pk_ai_suggestions"),
    )
    op.create_index("ix_ai_suggestions_at", "ai_suggestions", ["at"])
    op.create_index("ix_ai_suggestions_resolved_at", "ai_suggestions", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_ai_suggestions_resolved_at", table_name="ai_suggestions")
    op.drop_index("ix_ai_suggestions_at", table_name="ai_suggestions")
    op.drop_table("ai_suggestions")
    op.drop_index("ix_ai_calls_at", table_name="ai_calls")
    op.drop_table("ai_calls")

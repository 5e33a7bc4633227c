"""decisions: statements of reasons (DSA Art. 17/24(5)), one per restricted account

Revision ID: 0016_decisions
Revises: 0010_audit_canonical
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0016_decisions"
down_revision: str | None = "0010_audit_canonical"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("puid", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("dsa_id", sa.String(64)),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime()),
        sa.ForeignKeyConstraint(
            ["request_id"], ["enforcement_requests.id"], name="fk_statements_request_id_enforcement_requests"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_statements"),
        sa.UniqueConstraint("puid", name="uq_statements_puid"),
    )
    op.create_index("ix_statements_request_id", "statements", ["request_id"])
    op.create_index("ix_statements_account_id", "statements", ["account_id"])
    op.create_index("ix_statements_due", "statements", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("statements")

"""playbooks: rule hits, and what rules add to a case or an enforcement request

Revision ID: 0004_playbooks
Revises: 0003_enforcement
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0004_playbooks"
down_revision: str | None = "0003_enforcement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_hits",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("playbook_version", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64)),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("why", JSON, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_hits"),
    )
    op.create_index("ix_rule_hits_rule_at", "rule_hits", ["rule_id", "at"])
    op.create_index("ix_rule_hits_subject", "rule_hits", ["subject_type", "subject_id"])
    op.create_index("ix_rule_hits_account_at", "rule_hits", ["account_id", "at"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("labels", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("recommendations", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("second_review", sa.Text))
    with op.batch_alter_table("enforcement_requests") as batch:
        batch.add_column(sa.Column("recommendations", JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("second_review", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("enforcement_requests") as batch:
        batch.drop_column("second_review")
        batch.drop_column("recommendations")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("second_review")
        batch.drop_column("recommendations")
        batch.drop_column("labels")
    op.drop_index("ix_rule_hits_account_at", table_name="rule_hits")
    op.drop_index("ix_rule_hits_subject", table_name="rule_hits")
    op.drop_index("ix_rule_hits_rule_at", table_name="rule_hits")
    op.drop_table("rule_hits")

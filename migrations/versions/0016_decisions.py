"""decisions: statements of reasons (DSA Art. 17/24(5)), one per restricted account

Revision ID: 0016_decisions
Revises: 0015_coverage_handoff
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0016_decisions"
down_revision: str | None = "0015_coverage_handoff"
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
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("appeal_id", sa.String(100), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("puid", sa.String(500)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("links", JSON, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("reason", sa.Text()),
        sa.Column("decided_by", sa.String(32)),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("reinstatement_request_id", sa.Integer()),
        sa.Column("message_channel", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_appeals_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["enforcement_requests.id"], name="fk_appeals_request_id_enforcement_requests"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_appeals"),
        sa.UniqueConstraint("appeal_id", name="uq_appeals_appeal_id"),
    )
    op.create_index("ix_appeals_case_id", "appeals", ["case_id"])
    op.create_index("ix_appeals_request_id", "appeals", ["request_id"])
    op.create_index("ix_appeals_received_at", "appeals", ["received_at"])
    op.create_index("ix_appeals_reinstatement_request_id", "appeals", ["reinstatement_request_id"])
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_ref", sa.String(100), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decider", sa.String(32), nullable=False),
        sa.Column("reviewer", sa.String(32)),
        sa.Column("sampled_on", sa.Date(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime()),
        sa.Column("answer_outcome", sa.String(16)),
        sa.Column("answer_category", sa.String(32)),
        sa.Column("would_action", sa.Boolean()),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_qa_reviews"),
        sa.UniqueConstraint("kind", "item_id", name="uq_qa_reviews_kind"),
    )
    op.create_index("ix_qa_reviews_category", "qa_reviews", ["category"])
    op.create_index("ix_qa_reviews_reviewer", "qa_reviews", ["reviewer"])
    op.create_index("ix_qa_reviews_sampled_on", "qa_reviews", ["sampled_on"])


def downgrade() -> None:
    op.drop_table("qa_reviews")
    op.drop_table("appeals")
    op.drop_table("statements")

"""enforcement: requests, approvals, one action per account (the ledger), timeline events

Revision ID: 0003_enforcement
Revises: 0002_cases
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from store.base import UTCDateTime

revision: str = "0003_enforcement"
down_revision: str | None = "0002_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "enforcement_requests",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("requester", sa.String(32), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("case_ref", sa.String(32)),
        sa.Column("account_count", sa.Integer, nullable=False),
        sa.Column("duplicates_removed", sa.Integer, nullable=False),
        sa.Column("checklist", JSON),
        sa.Column("reverses_request_id", sa.Integer),
        sa.Column("approvals_needed", sa.Integer, nullable=False),
        sa.Column("approvals_count", sa.Integer, nullable=False),
        sa.Column("decided_by", sa.String(32)),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("manual", sa.Boolean, nullable=False),
        sa.Column("precheck", JSON),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("origin_channel", sa.String(32)),
        sa.Column("card_channel", sa.String(32)),
        sa.Column("card_ts", sa.String(32)),
        sa.Column("progress_ts", sa.String(32)),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_requests"),
        sa.ForeignKeyConstraint(
            ["reverses_request_id"], ["enforcement_requests.id"], name="fk_enforcement_requests_reverses"
        ),
    )
    op.create_index("ix_enforcement_requests_status", "enforcement_requests", ["status"])
    op.create_index("ix_enforcement_requests_case_ref", "enforcement_requests", ["case_ref"])

    op.create_table(
        "enforcement_actions",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reverses_action_id", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_attempt_at", UTCDateTime()),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("result_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("executed_by", sa.String(32)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_actions"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["enforcement_requests.id"],
            name="fk_enforcement_actions_request_id_enforcement_requests",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_action_id"], ["enforcement_actions.id"], name="fk_enforcement_actions_reverses"
        ),
        sa.UniqueConstraint("request_id", "account_id", name="uq_enforcement_actions_request_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_enforcement_actions_idempotency_key"),
    )
    op.create_index("ix_enforcement_actions_account_id", "enforcement_actions", ["account_id"])
    op.create_index("ix_enforcement_actions_due", "enforcement_actions", ["status", "next_attempt_at"])

    op.create_table(
        "enforcement_approvals",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("approver", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_approvals"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["enforcement_requests.id"],
            name="fk_enforcement_approvals_request_id_enforcement_requests",
        ),
        sa.UniqueConstraint("request_id", "approver", "decision", name="uq_enforcement_approvals_request_id"),
    )

    op.create_table(
        "enforcement_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.String(64)),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_events"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["enforcement_requests.id"],
            name="fk_enforcement_events_request_id_enforcement_requests",
        ),
    )
    op.create_index("ix_enforcement_events_request_id", "enforcement_events", ["request_id"])
    op.create_index("ix_enforcement_events_account_id", "enforcement_events", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_enforcement_events_account_id", table_name="enforcement_events")
    op.drop_index("ix_enforcement_events_request_id", table_name="enforcement_events")
    op.drop_table("enforcement_events")
    op.drop_table("enforcement_approvals")
    op.drop_index("ix_enforcement_actions_due", table_name="enforcement_actions")
    op.drop_index("ix_enforcement_actions_account_id", table_name="enforcement_actions")
    op.drop_table("enforcement_actions")
    op.drop_index("ix_enforcement_requests_case_ref", table_name="enforcement_requests")
    op.drop_index("ix_enforcement_requests_status", table_name="enforcement_requests")
    op.drop_table("enforcement_requests")

"""enforcement safety: at most one open action per account and action (race-free in the database)

Revision ID: 0007_open_requests
Revises: 0006_reports
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_open_requests"
down_revision: str | None = "0006_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('awaiting_approval', 'pending', 'running', 'awaiting_manual')")


def upgrade() -> None:
    # A database from before this rule may hold two open requests on one account: the index
    # cannot be built over them, and picking one to cancel is a person's decision, not ours.
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT account_id, action, COUNT(*) FROM enforcement_actions "
                f"WHERE {OPEN.text} GROUP BY account_id, action HAVING COUNT(*) > 1 "
                "ORDER BY account_id LIMIT 5"
            )
        )
        .all()
    )
    if clashes:
        named = ", ".join(f"{account} ({action} x{count})" for account, action, count in clashes)
        raise RuntimeError(
            f"accounts with more than one open enforcement request: {named}. Reject the extra "
            "requests in Slack (or let them finish), then run `vigil db upgrade` again."
        )
    with op.batch_alter_table("enforcement_actions") as batch:
        batch.create_index(
            "uq_enforcement_actions_open",
            ["account_id", "action"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("enforcement_actions") as batch:
        batch.drop_index("uq_enforcement_actions_open")

"""installation: when Vigil first started here (digest catch-up never reaches back before it)

Revision ID: 0008_installation
Revises: 0007_open_requests
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from store.base import UTCDateTime

revision: str = "0008_installation"
down_revision: str | None = "0007_open_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A deployment that ran before this revision has served since its earliest record; seeding the
# row from it keeps its catch-up after a downtime as it was.
EARLIEST = (
    ("digest_runs", "created_at"),
    ("jobs", "created_at"),
    ("cases", "created_at"),
    ("audit_log", "at"),
)


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("first_started_at", UTCDateTime(), nullable=False),
        sa.Column("first_version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_installation"),
        sa.CheckConstraint("id = 1", name="ck_installation_single_row"),
    )
    bind = op.get_bind()
    seen: list[datetime] = []
    for table, column in EARLIEST:
        earliest = bind.execute(
            sa.select(sa.func.min(sa.table(table, sa.column(column, UTCDateTime())).c[column]))
        ).scalar()
        if earliest is not None:
            seen.append(earliest)
    if seen:
        installation = sa.table(
            "installation",
            sa.column("id", sa.Integer),
            sa.column("first_started_at", UTCDateTime()),
            sa.column("first_version", sa.String),
        )
        op.execute(
            installation.insert().values(id=1, first_started_at=min(seen), first_version="before 0007")
        )


def downgrade() -> None:
    op.drop_table("installation")

"""audit hash versions: new rows hash a canonical text kept in its own column

Revision ID: 0010_audit_canonical
Revises: 0009_drafts
Create Date: 2026-12-04

Rows written before keep a NULL version and verify as they always did, so head hashes that
operators kept stay valid. SQLite adds the columns in place (ALTER TABLE ADD COLUMN), which
keeps the append-only triggers; dropping them rebuilds the table, so the downgrade puts the
triggers back.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_audit_canonical"
down_revision: str | None = "0009_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash_version", sa.Integer))
        batch.add_column(sa.Column("canonical", sa.Text))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the rebuild copies rows with INSERT; the triggers come back after it
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("canonical")
        batch.drop_column("hash_version")
    if sqlite:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)

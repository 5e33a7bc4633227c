"""The enforcement ledger as an investigation shows it (the EnforcementHistory port, read
from the enforcement capability)."""

from __future__ import annotations

from store.db import Database
from workflows.enforcement import account_history, open_requests_of
from workflows.investigations.views import EnforcementRecord


class LedgerEnforcementHistory:
    """Requests and actions on the account, from the enforcement ledger."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def for_account(self, account_id: str) -> list[EnforcementRecord]:
        """Open requests first (an analyst must see REQ-n waiting before asking again), then
        what was done, newest first."""
        with self.db.read() as session:
            pending = open_requests_of(session, account_id)
            entries = account_history(session, account_id)
        records = [
            EnforcementRecord(
                at=entry.requested_at,
                action=entry.action,
                status=entry.state,
                ref=entry.ref,
                actor=entry.requester,
                note=f"reason {entry.reason_code}",
                open=True,
            )
            for entry in pending
        ]
        shown = {entry.ref for entry in pending}
        records += [
            EnforcementRecord(
                at=entry.finished_at or entry.requested_at,
                action=entry.action,
                status=entry.status,
                ref=entry.ref,
                actor=entry.executed_by or entry.requester,
                note=entry.error or (f"reason {entry.reason_code}" if entry.reason_code else None),
            )
            for entry in entries
            if entry.ref not in shown
        ]
        return records

"""The rule hook Vigil runs without playbooks: a report joins a case about its account."""

from __future__ import annotations

from store import signals as store
from store.db import Database
from workflows.signals.views import IngestedBatch, ReportView


class NewestOpenCaseLinker:
    """A report joins the newest open case that mentions its account (a SignalRuleHook; the
    playbook rules keep this linking and add to it)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def reports_received(self, reports: list[ReportView]) -> dict[int, int | None]:
        with self.db.read() as session:
            newest = store.newest_open_case_by_account(session, (r.account_id for r in reports))
        return {r.id: newest.get(r.account_id) for r in reports}

    def signal_ingested(self, batch: IngestedBatch) -> None:
        return None

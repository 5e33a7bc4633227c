"""What rule hooks and adapters see of stored signals: reports, batches, ingest results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.signals import Report


@dataclass(frozen=True)
class ReportView:
    id: int
    client_id: str | None
    account_id: str
    reporter: str | None
    reason: str | None
    text: str | None
    occurred_at: datetime
    case_id: int | None


@dataclass(frozen=True)
class IngestedBatch:
    """One stored batch, as rules see it (after commit, in a job)."""

    source: str
    signals: int
    by_type: dict[str, int]
    accounts: list[str]
    report_ids: list[int]
    received_at: datetime | None = None  # the batch's stamp on its rows, so rules can read them


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    reports: int
    by_type: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, "accepted": self.accepted, "duplicates": self.duplicates, "reports": self.reports}


def report_view(report: Report) -> ReportView:
    return ReportView(
        id=report.id,
        client_id=report.client_id,
        account_id=report.account_id,
        reporter=report.reporter,
        reason=report.reason,
        text=report.text,
        occurred_at=report.occurred_at,
        case_id=report.case_id,
    )

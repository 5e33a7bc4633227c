"""What the signals capability needs from outside: the rules that react to stored data."""

from __future__ import annotations

from typing import Protocol

from workflows.signals.views import IngestedBatch, ReportView


class SignalRuleHook(Protocol):
    """Where playbooks plug in (triggers ``report.received`` and ``signal.ingested``; anomaly
    detection has its own hook, ``AnomalyRuleHook``). Called after the data is committed, from
    jobs, never inside the ingest transaction."""

    def reports_received(self, reports: list[ReportView]) -> dict[int, int | None]:
        """Trigger ``report.received``: for each report id, the case it belongs to (its id),
        or None to leave it unlinked. Given a whole batch, so a rule may look things up once."""
        ...

    def signal_ingested(self, batch: IngestedBatch) -> None: ...

"""What the anomalies capability needs from outside: somewhere to post incidents, and the rules
that react to a new anomaly."""

from __future__ import annotations

from typing import Protocol

from workflows.anomalies.views import AnomalyView, BudgetView, ChartData, IncidentView


class AnomalyNotifier(Protocol):
    def post_incident(self, incident: IncidentView, channel: str) -> str:
        """Posts the incident's card with its buttons; returns the message ts."""
        ...

    def update_incident(self, incident: IncidentView) -> None:
        """Redraws the card in place (peak, duration, state, answers)."""
        ...

    def reply_closed(self, incident: IncidentView) -> str:
        """Tells the card's thread that the incident closed; returns the reply's ts."""
        ...

    def post_chart(self, name: str, chart: ChartData, channel: str, thread_ts: str) -> str | None:
        """Uploads the chart beside the card; returns the file id."""
        ...

    def post_budget(self, budget: BudgetView, channel: str) -> str:
        """Posts the day's summary of a series' incidents over its alert budget; returns the ts."""
        ...

    def update_budget(self, budget: BudgetView) -> None: ...


class AnomalyRuleHook(Protocol):
    """Where playbooks plug in for the ``anomaly.detected`` trigger. Called after the anomaly
    is committed, for posted and suppressed ones alike."""

    def anomaly_detected(self, anomaly: AnomalyView) -> None: ...


class NoAnomalyRules:
    """Without playbooks nothing reacts to an anomaly beyond its alert."""

    def anomaly_detected(self, anomaly: AnomalyView) -> None:
        return None

"""What the anomalies capability needs from outside: somewhere to post alerts, and the rules
that react to a new anomaly."""

from __future__ import annotations

from typing import Protocol

from workflows.anomalies.views import AnomalyView, ChartData


class AnomalyNotifier(Protocol):
    def post_alert(self, anomaly: AnomalyView, channel: str) -> str:
        """Posts the alert with its buttons; returns the message ts."""
        ...

    def post_chart(self, anomaly: AnomalyView, chart: ChartData, channel: str, thread_ts: str) -> str | None:
        """Uploads the chart beside the alert; returns the file id."""
        ...

    def update_alert(self, anomaly: AnomalyView) -> None: ...


class AnomalyRuleHook(Protocol):
    """Where playbooks plug in for the ``anomaly.detected`` trigger. Called after the anomaly
    is committed, for posted and suppressed ones alike."""

    def anomaly_detected(self, anomaly: AnomalyView) -> None: ...


class NoAnomalyRules:
    """Without playbooks nothing reacts to an anomaly beyond its alert."""

    def anomaly_detected(self, anomaly: AnomalyView) -> None:
        return None

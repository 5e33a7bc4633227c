"""Anomalies: each signal type's hourly volume against its own history, overall and per
attribute value, flagged as spikes, drops and new top contributors (tactic shifts), posted
once with a chart, and the team's feedback kept.

- ``detect``: the pure detector over hourly counts (robust statistics)
- ``service``: the ``Anomalies`` service (detection runs, feedback, posting jobs)
- ``views``: what adapters render (``AnomalyView``, ``ChartData``) and the digest's numbers
- ``ports``: ``AnomalyNotifier`` and ``AnomalyRuleHook``
"""

from workflows.anomalies.detect import Detector, Finding, find_anomalies
from workflows.anomalies.ports import AnomalyNotifier, AnomalyRuleHook, NoAnomalyRules
from workflows.anomalies.service import JOB_POST, JOB_UPDATE, Anomalies
from workflows.anomalies.views import (
    FEEDBACK,
    KINDS,
    AnomalyView,
    AnomalyWeekStats,
    ChartData,
    ChartPoint,
    DetectionReport,
    FeedbackResult,
)

__all__ = [
    "FEEDBACK",
    "JOB_POST",
    "JOB_UPDATE",
    "KINDS",
    "Anomalies",
    "AnomalyNotifier",
    "AnomalyRuleHook",
    "AnomalyView",
    "AnomalyWeekStats",
    "ChartData",
    "ChartPoint",
    "DetectionReport",
    "Detector",
    "FeedbackResult",
    "Finding",
    "NoAnomalyRules",
    "find_anomalies",
]

"""Anomalies: each signal type's hourly volume against its own history, overall and per
attribute value, flagged as spikes, drops and new top contributors (tactic shifts); the
anomalous hours of a series grouped into incidents, each posted once, updated in place and
closed; and the team's answers kept (a dismissed recurring shape lowers that series'
sensitivity in those hours until someone restores it).

- ``detect``: the pure detector over hourly counts (robust statistics)
- ``incidents``: episodes, expected events and the daily alert budget
- ``service``: the ``Anomalies`` service (detection runs, answers, remembered shapes)
- ``jobs``: posting, updating and closing incident cards; the budget's daily summary
- ``views``: what adapters render (``IncidentView``, ``ShapeView``, ``ChartData``) and the digest's numbers
- ``ports``: ``AnomalyNotifier`` and ``AnomalyRuleHook``
"""

from typing import TYPE_CHECKING

from workflows import lazy

if TYPE_CHECKING:
    from workflows.anomalies.detect import Detector, Finding, find_anomalies
    from workflows.anomalies.incidents import (
        JOB_BUDGET_POST,
        JOB_BUDGET_UPDATE,
        JOB_INCIDENT_CLOSE,
        JOB_INCIDENT_POST,
        JOB_INCIDENT_UPDATE,
    )
    from workflows.anomalies.ports import AnomalyNotifier, AnomalyRuleHook, NoAnomalyRules
    from workflows.anomalies.service import Anomalies
    from workflows.anomalies.views import (
        DELIVERY,
        FEEDBACK,
        KINDS,
        AnomalyView,
        AnomalyWeekStats,
        BudgetView,
        ChartData,
        ChartPoint,
        DetectionReport,
        FeedbackResult,
        IncidentView,
        ShapeView,
    )

__all__ = [
    "DELIVERY",
    "FEEDBACK",
    "JOB_BUDGET_POST",
    "JOB_BUDGET_UPDATE",
    "JOB_INCIDENT_CLOSE",
    "JOB_INCIDENT_POST",
    "JOB_INCIDENT_UPDATE",
    "KINDS",
    "Anomalies",
    "AnomalyNotifier",
    "AnomalyRuleHook",
    "AnomalyView",
    "AnomalyWeekStats",
    "BudgetView",
    "ChartData",
    "ChartPoint",
    "DetectionReport",
    "Detector",
    "FeedbackResult",
    "Finding",
    "IncidentView",
    "NoAnomalyRules",
    "ShapeView",
    "find_anomalies",
]

# Each room loads when one of its names is first used (workflows/lazy.py).
__getattr__, __dir__ = lazy.exports(__name__, __file__)

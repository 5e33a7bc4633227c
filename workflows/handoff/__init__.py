"""Hand-off to Engineering: a requirement (problem, evidence, impact, mitigation, priority)
about a case, investigation, anomaly, pattern, coverage weak point or manual enforcement
becomes a Jira issue (or, without Jira, a post in the engineering channel), delivered by a
retried job that never creates it twice; status changes come back by poll and webhook."""

from workflows.handoff.intake import Requirement
from workflows.handoff.ports import HandoffNotifier, Issue, IssueTracker, Ticket, TrackerError
from workflows.handoff.service import JOB_DELIVER, TELL_ON, Handoffs
from workflows.handoff.views import HandoffView

__all__ = [
    "JOB_DELIVER",
    "TELL_ON",
    "HandoffNotifier",
    "HandoffView",
    "Handoffs",
    "Issue",
    "IssueTracker",
    "Requirement",
    "Ticket",
    "TrackerError",
]

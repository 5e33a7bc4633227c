"""Cases: a message in an escalation channel (or one an analyst picks with the shortcut)
becomes a case (``CASE-n``) that is triaged, claimed, escalated and resolved from Slack,
keeps a timeline of everything that happened to it, and is held to an SLA per priority.

The roles live in their own modules: ``intake`` (messages, overrides, references, accounts),
``triage``, ``service`` (the ``Cases`` use cases), ``views`` (what adapters read), ``ports``
(what cases need from outside), ``jobs`` (the Slack side effects as durable jobs) and
``timeline`` (the one way anything writes on a case's timeline). This module re-exports the
concept's public API.
"""

from typing import TYPE_CHECKING

from workflows import lazy

if TYPE_CHECKING:
    from workflows.cases import timeline
    from workflows.cases.intake import CaseOverrides, IncomingMessage, find_accounts, parse_case_ref
    from workflows.cases.jobs import JOB_ALERT, JOB_CARD_POST, JOB_CARD_UPDATE, JOB_THREAD
    from workflows.cases.ports import CardRef, CaseNotifier, CaseRuleHook
    from workflows.cases.service import Cases
    from workflows.cases.triage import CATEGORIES, PRIORITIES, DefaultTriage, Triage, Triager
    from workflows.cases.views import (
        CLAIMED,
        NEW,
        NUDGE_AT,
        OUTCOMES,
        RESOLVED,
        CaseNotice,
        CaseResult,
        CaseView,
        EventView,
        HomeData,
        Outcome,
        RuleHitView,
        SlaReport,
        SlaState,
        sla_state,
        view_of,
    )

__all__ = [
    "CATEGORIES",
    "CLAIMED",
    "JOB_ALERT",
    "JOB_CARD_POST",
    "JOB_CARD_UPDATE",
    "JOB_THREAD",
    "NEW",
    "NUDGE_AT",
    "OUTCOMES",
    "PRIORITIES",
    "RESOLVED",
    "CardRef",
    "CaseNotice",
    "CaseNotifier",
    "CaseOverrides",
    "CaseResult",
    "CaseRuleHook",
    "CaseView",
    "Cases",
    "DefaultTriage",
    "EventView",
    "HomeData",
    "IncomingMessage",
    "Outcome",
    "RuleHitView",
    "SlaReport",
    "SlaState",
    "Triage",
    "Triager",
    "find_accounts",
    "parse_case_ref",
    "sla_state",
    "timeline",
    "view_of",
]

# Each room loads when one of its names is first used (workflows/lazy.py).
__getattr__, __dir__ = lazy.exports(__name__, __file__)

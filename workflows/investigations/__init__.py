"""Investigations (INV-<n>): everything Vigil knows about one account, in one place, and
the analyst's verdict on it (abuse confirmed, legitimate outlier, inconclusive).

- ``service``: the ``Investigations`` service (open, verdict, dossier, posting jobs)
- ``views``: the dossier and investigation read models, results by code, weekly numbers
- ``ports``: ``AccountProfiles``, ``EnforcementHistory``, ``RuleMatches`` (and their "none"
  defaults), ``InvestigationNotifier``
- ``history``: the enforcement ledger as the ``EnforcementHistory`` an investigation reads
"""

from typing import TYPE_CHECKING

from workflows import lazy

if TYPE_CHECKING:
    from workflows.investigations.history import LedgerEnforcementHistory
    from workflows.investigations.ports import (
        AccountProfiles,
        EnforcementHistory,
        InvestigationNotifier,
        NoEnforcementHistory,
        NoProfiles,
        NoRuleMatches,
        RuleMatches,
    )
    from workflows.investigations.service import JOB_CLOSED, JOB_POST, Investigations
    from workflows.investigations.views import (
        OUTCOMES,
        CaseLine,
        Dossier,
        EnforcementRecord,
        EventView,
        InvestigationResult,
        InvestigationView,
        InvestigationWeekStats,
        LinkedAccount,
        Profile,
        RuleMatch,
        TimelineItem,
        evidence_for,
    )

__all__ = [
    "JOB_CLOSED",
    "JOB_POST",
    "OUTCOMES",
    "AccountProfiles",
    "CaseLine",
    "Dossier",
    "EnforcementHistory",
    "EnforcementRecord",
    "EventView",
    "InvestigationNotifier",
    "InvestigationResult",
    "InvestigationView",
    "InvestigationWeekStats",
    "Investigations",
    "LedgerEnforcementHistory",
    "LinkedAccount",
    "NoEnforcementHistory",
    "NoProfiles",
    "NoRuleMatches",
    "Profile",
    "RuleMatch",
    "RuleMatches",
    "TimelineItem",
    "evidence_for",
]

# Each room loads when one of its names is first used (workflows/lazy.py).
__getattr__, __dir__ = lazy.exports(__name__, __file__)

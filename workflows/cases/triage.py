"""Triage: what kind of case a message is and how urgent, decided when it arrives.

The built-in keyword triage runs until playbooks are written (and whenever they fail to
load); playbook rules run after it, inside the case's transaction (ports.CaseRuleHook).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

CATEGORIES: dict[str, str] = {
    "suspension_request": "Suspension request",
    "reinstatement_request": "Reinstatement request",
    "cx_escalation": "CX escalation",
    "host_report": "Host report",
    "user_report": "User report",
    "abuse_inquiry": "Abuse inquiry",
    "other": "Other",
    "appeal": "Appeal",  # a user contests an enforcement action (DSA Art. 20); sla.appeal applies
}
PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class Triage:
    category: str
    priority: str
    reasons: list[str] = field(default_factory=list)


class Triager(Protocol):
    """Decides category and priority of a new case (the playbooks replace the default)."""

    def triage(self, text: str, accounts: list[str]) -> Triage: ...


_CATEGORY_WORDS: list[tuple[str, str]] = [
    (
        "reinstatement_request",
        r"reinstat\w*|unsuspend\w*|appeal\w*|reactivat\w*|restore (?:the |their )?account",
    ),
    ("suspension_request", r"suspend\w*|ban(?:ned)?|deactivat\w*|take ?down|block (?:the |this )?account"),
    ("host_report", r"host\w*"),
    ("user_report", r"guest\w*|user report\w*|reported (?:a |the )?user"),
    ("cx_escalation", r"cx|customer|ticket\w*|zendesk|complain\w*|support"),
    ("abuse_inquiry", r"inquir\w*|question|why (?:was|is|were)|law enforcement|subpoena"),
]
_PRIORITY_WORDS: list[tuple[str, str]] = [
    (
        "P1",
        r"urgent|emergenc\w*|threat\w*|violen\w*|self[- ]harm|suicid\w*|child\w*|csam|minor|doxx\w*"
        r"|extort\w*",
    ),
    ("P2", r"fraud\w*|phish\w*|scam\w*|takeover|ato|stolen|chargeback\w*|payment\w*|crypto\w*|impersonat\w*"),
    ("P4", r"fyi|question|no rush|low priority"),
]


class DefaultTriage:
    """Keyword triage until playbooks are written: explainable, and never clever."""

    def triage(self, text: str, accounts: list[str]) -> Triage:
        lowered = text.lower()
        reasons: list[str] = []
        category = "other"
        for name, words in _CATEGORY_WORDS:
            match = re.search(rf"\b(?:{words})\b", lowered)
            if match:
                category = name
                reasons.append(f"category {name}: '{match.group(0)}'")
                break
        priority = "P3"
        for name, words in _PRIORITY_WORDS:
            match = re.search(rf"\b(?:{words})\b", lowered)
            if match:
                priority = name
                reasons.append(f"priority {name}: '{match.group(0)}'")
                break
        return Triage(category=category, priority=priority, reasons=reasons)

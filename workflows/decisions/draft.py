"""Drafting a statement of reasons from an enforcement request: which fact comes from where.

Vigil suspends (no termination, no end date), so ``decision_account`` is
``DECISION_ACCOUNT_SUSPENDED`` and nothing else restricts. How the case was found gives the
source and whether detection was automated; a person always approves, so the decision is not
automated, or partially when a playbook rule proposed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.config import DsaSettings
from workflows.decisions.facts import redact
from workflows.decisions.schema import Statement

FACTS_MAX = 5000


@dataclass(frozen=True)
class Origin:
    """How the request's case came to Vigil: a person's report (a notice) or Vigil's own
    detection (a rule, an anomaly, a model signal or a pattern posted it)."""

    notice: bool
    automated_detection: bool
    content_date: date | None = None


def puid(request_id: int, action_id: int) -> str:
    """Vigil's stable id of one action; no account id in it, since the database is public."""
    return f"vigil-req{request_id}-act{action_id}"


def facts_from(evidence: str, note: str, reason_code: str, accounts: list[str]) -> str:
    text = "\n".join(part.strip() for part in (evidence, note) if part.strip())
    text = (
        redact(text, accounts).strip() or f"The account was restricted for {reason_code.replace('_', ' ')}."
    )
    return text[:FACTS_MAX]


def draft(
    settings: DsaSettings,
    *,
    request_id: int,
    action_id: int,
    reason_code: str,
    facts: str,
    origin: Origin,
    rule_proposed: bool,
    decided_on: date,
) -> Statement:
    """The statement for one account; raises pydantic's ValidationError naming the field."""
    legal_ground = settings.illegal.get(reason_code)
    words = reason_code.replace("_", " ")
    fields: dict[str, Any] = {
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "category": settings.categories[reason_code],
        "content_type": settings.content_type,
        "content_date": min(origin.content_date or decided_on, decided_on),
        "application_date": decided_on,
        "decision_facts": facts,
        "source_type": "SOURCE_ARTICLE_16" if origin.notice else "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if origin.automated_detection else "No",
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY"
        if rule_proposed
        else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": settings.territorial_scope,
        "puid": puid(request_id, action_id),
    }
    if "CONTENT_TYPE_OTHER" in settings.content_type:
        fields["content_type_other"] = "Account activity"
    if legal_ground:
        fields |= {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": legal_ground,
            "illegal_content_explanation": (
                f"The account was suspended for {words}, which is illegal under {legal_ground}."
            ),
        }
    else:
        fields |= {
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "incompatible_content_ground": settings.terms_ground,
            "incompatible_content_explanation": (
                f"The account was suspended for {words}, which the {settings.terms_ground} prohibit."
            ),
        }
    return Statement.model_validate(fields)

"""Decisions you can defend (DSA): statements of reasons, drafted from an enforcement request
in the Transparency Database's own fields, checked with its rules, carried by the enforcement
call as the user's notice, and submitted to the database once the action executed.

Public API: ``Decisions`` (the service, and enforcement's DecisionHook), ``Statement`` (the
database's fields and rules), ``find_personal_data``/``redact`` (the facts' personal-data
check), ``TransparencyDatabase`` (the port) with ``Submitted`` and ``BATCH``.
"""

from workflows.decisions.facts import Span, find_personal_data, redact
from workflows.decisions.ports import BATCH, Submitted, TransparencyDatabase
from workflows.decisions.schema import CATEGORIES, Statement
from workflows.decisions.service import Decisions

__all__ = [
    "BATCH",
    "CATEGORIES",
    "Decisions",
    "Span",
    "Statement",
    "Submitted",
    "TransparencyDatabase",
    "find_personal_data",
    "redact",
]

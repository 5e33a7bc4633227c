"""A case's timeline: the one way any capability writes on it.

Cases, enforcement and playbooks all note what happened to a case here, in the caller's
transaction, so a change and its timeline entry commit together (or not at all).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import cases as store
from workflows.cases.intake import parse_case_ref


def note(
    session: Session,
    case: int | str,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime,
    actor: str | None = None,
) -> bool:
    """Note ``kind`` on the case (an id, or a ``CASE-n`` reference); False when no such case."""
    case_id = case if isinstance(case, int) else parse_case_ref(case)
    if case_id is None:
        return False
    # An id comes from our own rows; a reference was typed by someone and may name nothing.
    if isinstance(case, str) and not store.case_exists(session, case_id):
        return False
    store.add_event(session, case_id, at, actor, kind, data or {})
    return True

"""What happened to a request, written in the caller's transaction: its timeline event (and
its case's), its audit row, and its close once nothing is outstanding. The use cases (service.py) and the
executor (executor.py) both write through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import enforcement as ledger
from store.enforcement import EnforcementRequest
from workflows import audit
from workflows.cases import timeline


def note_event(
    session: Session,
    request: EnforcementRequest,
    at: datetime,
    actor: str,
    kind: str,
    data: dict[str, Any] | None = None,
    account_id: str | None = None,
) -> None:
    """An event on the request's (and account's) timeline, in the caller's transaction.

    When the request names a case (``case_ref``), request-level events land on the case's
    timeline too, so the case shows what was asked, decided and done about it. Per-account
    results stay on the request: a 2,000-account bulk would drown the case.
    """
    ledger.add_event(session, request.id, at, actor, kind, data or {}, account_id)
    if request.case_ref and account_id is None:
        timeline.note(
            session,
            request.case_ref,
            f"enforcement.{kind}",
            {"request": request.ref, "action": request.action, **_brief(data or {})},
            at=at,
            actor=actor,
        )


def _brief(data: dict[str, Any]) -> dict[str, Any]:
    """What a case timeline needs of an enforcement event (not the whole sample list)."""
    keep = ("accounts", "reason_code", "reason", "counts", "approvals", "approvals_needed", "final")
    return {k: data[k] for k in keep if k in data}


def complete_if_finished(session: Session, now: datetime, request_id: int, actor: str) -> bool:
    """Close an approved request with nothing outstanding, with its event and audit row.
    Exactly one caller wins."""
    if not ledger.complete_if_finished(session, request_id, now):
        return False
    request = ledger.get_request(session, request_id, fresh=True)
    assert request is not None
    counts = ledger.status_counts(session, request_id)
    note_event(session, request, now, actor, "completed", {"counts": counts, "round": request.round})
    audit_request(
        session, now, actor, "enforcement.completed", request, {"counts": counts, "round": request.round}
    )
    return True


def audit_request(
    session: Session, at: datetime, actor: str, action: str, request: EnforcementRequest, data: dict[str, Any]
) -> None:
    """The audit row of a step of the request (actions audit per account, in the executor)."""
    audit.record(
        session,
        at=at,
        actor=actor,
        action=action,
        subject_type="enforcement_request",
        subject_id=request.ref,
        data=data,
    )

"""Read models of the ledger, handed to adapters and other concepts (frozen dataclasses), and
the functions that build them from store/enforcement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import decisions as statement_store
from store import enforcement as ledger
from store.enforcement import (
    APPROVED,
    COMPLETED,
    EXPIRED,
    OPEN_ACTION,
    PENDING_APPROVAL,
    REJECTED,
    EnforcementAction,
)
from workflows.enforcement.intake import request_ref
from workflows.ports import MessageRef

# Requests with at most this many accounts get one thread reply per account; larger
# ones (bulk) get a progress message and a summary.
PER_ACCOUNT_REPORTS_UP_TO = 10
SAMPLE_SIZE = 10

REQUEST_STATUS_TEXT = {
    PENDING_APPROVAL: "waiting for approval",
    APPROVED: "approved, executing",
    REJECTED: "rejected",
    COMPLETED: "completed",
    EXPIRED: "expired",
}


def request_state(status: str, manual: bool = False) -> str:
    """A request's state in plain words (also what investigations show of it)."""
    if status == APPROVED and manual:
        return "approved, awaiting manual execution"
    return REQUEST_STATUS_TEXT.get(status, status)


def _card(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None


# --- open requests on accounts ------------------------------------------------------------------
@dataclass(frozen=True)
class OpenAction:
    """An account's action in a request that is still open (asked for, approved, under way)."""

    account_id: str
    request_id: int
    action: str
    request_status: str
    manual: bool = False
    card: MessageRef | None = None

    @property
    def ref(self) -> str:
        return request_ref(self.request_id)

    @property
    def state(self) -> str:
        return request_state(self.request_status, self.manual)


def open_actions_on(session: Session, accounts: list[str], action: str | None = None) -> list[OpenAction]:
    """The open actions on these accounts (of ``action`` only, when given), oldest first."""
    return [
        OpenAction(
            row.account_id,
            row.request_id,
            row.action,
            row.request_status,
            row.manual,
            _card(row.card_channel, row.card_ts),
        )
        for row in ledger.open_actions_for(session, accounts, action)
    ]


@dataclass(frozen=True)
class Conflict:
    """Another open request that touches some of a request's accounts."""

    request_id: int
    action: str
    state: str
    accounts: int
    sample: list[str]

    @property
    def ref(self) -> str:
        return request_ref(self.request_id)


def conflicts_of(session: Session, request_id: int, sample: int = 5) -> list[Conflict]:
    """Open requests, other than this one, with an open action on any of its accounts."""
    return [
        Conflict(row.request_id, row.action, request_state(row.status, row.manual), row.accounts, row.sample)
        for row in ledger.conflicting_requests(session, request_id, sample)
    ]


# --- a request and its actions ------------------------------------------------------------------
@dataclass(frozen=True)
class RequestView:
    id: int
    action: str
    status: str
    requester: str
    reason_code: str
    note: str
    evidence: str
    case_ref: str | None
    account_count: int
    sample: list[str]
    duplicates_removed: int
    approvals_needed: int
    approvers: list[str]
    decided_by: str | None
    rejection_reason: str | None
    manual: bool
    precheck: dict[str, Any] | None
    checklist: dict[str, Any] | None
    reverses_request_id: int | None
    card: MessageRef | None
    progress_ts: str | None
    origin_channel: str | None
    counts: dict[str, int]
    round: int
    created_at: datetime
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    second_review: str | None = None
    # Other open requests on the same accounts (a reinstatement while the suspension is still
    # open): shown to approvers before anyone approves. Only read while this one is pending.
    conflicts: list[Conflict] = field(default_factory=list)
    # The statement of reasons of its first account (all share their text), and how many of
    # the request's statements are in each status (drafted, frozen, submitted, failed, blocked).
    statement: dict[str, Any] | None = None
    statements: dict[str, int] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return request_ref(self.id)

    @property
    def bulk(self) -> bool:
        return self.account_count > PER_ACCOUNT_REPORTS_UP_TO

    @property
    def approvals_remaining(self) -> int:
        if self.status != PENDING_APPROVAL:
            return 0
        return max(0, self.approvals_needed - len(self.approvers))

    def count(self, *statuses: str) -> int:
        return sum(self.counts.get(s, 0) for s in statuses)


def load_view(session: Session, request_id: int) -> RequestView | None:
    request = ledger.get_request(session, request_id)
    if request is None:
        return None
    return RequestView(
        id=request.id,
        action=request.action,
        status=request.status,
        requester=request.requester,
        reason_code=request.reason_code,
        note=request.note,
        evidence=request.evidence,
        case_ref=request.case_ref,
        account_count=request.account_count,
        sample=ledger.account_sample(session, request_id, SAMPLE_SIZE),
        duplicates_removed=request.duplicates_removed,
        approvals_needed=request.approvals_needed,
        approvers=ledger.approvers_of(session, request_id),
        decided_by=request.decided_by,
        rejection_reason=request.rejection_reason,
        manual=request.manual,
        precheck=request.precheck,
        checklist=request.checklist,
        reverses_request_id=request.reverses_request_id,
        card=_card(request.card_channel, request.card_ts),
        progress_ts=request.progress_ts,
        origin_channel=request.origin_channel,
        counts=ledger.status_counts(session, request_id),
        round=request.round,
        created_at=request.created_at,
        recommendations=list(request.recommendations or []),
        second_review=request.second_review,
        conflicts=conflicts_of(session, request_id) if request.status == PENDING_APPROVAL else [],
        **_statements(session, request_id),
    )


def _statements(session: Session, request_id: int) -> dict[str, Any]:
    first, counts = statement_store.summary_of_request(session, request_id)
    return {"statement": first, "statements": counts}


def list_requests(session: Session, status: str | None = None, limit: int = 50) -> list[RequestView]:
    """The latest requests (of ``status``, when given), newest first."""
    views = [load_view(session, rid) for rid in ledger.latest_request_ids(session, status, limit)]
    return [view for view in views if view is not None]


@dataclass(frozen=True)
class ActionView:
    request_id: int
    account_id: str
    action: str
    status: str
    result_code: int | None
    error: str | None
    attempts: int
    idempotency_key: str
    executed_by: str | None = None


def action_view(row: EnforcementAction) -> ActionView:
    return ActionView(
        row.request_id,
        row.account_id,
        row.action,
        row.status,
        row.result_code,
        row.error,
        row.attempts,
        row.idempotency_key,
        row.executed_by,
    )


def actions_of(session: Session, request_id: int, statuses: Iterable[str] | None = None) -> list[ActionView]:
    return [action_view(row) for row in ledger.actions_of(session, request_id, statuses)]


@dataclass(frozen=True)
class Decision:
    """What an approval or a rejection did."""

    request_id: int
    final: bool  # True when this decision approved or rejected the request
    status: str
    approvals_remaining: int


@dataclass(frozen=True)
class Summary:
    """What the thread is told when a request finishes."""

    request: RequestView
    failures: list[ActionView]  # failed and failed (retryable)


# --- an account's history -------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    request_id: int
    action: str
    status: str  # the action's
    request_status: str
    reason_code: str
    requester: str
    approvers: list[str]
    result_code: int | None
    error: str | None
    requested_at: datetime
    finished_at: datetime | None
    executed_by: str | None
    reverses_request_id: int | None
    manual: bool = False

    @property
    def ref(self) -> str:
        return request_ref(self.request_id)

    @property
    def open(self) -> bool:
        return self.status in OPEN_ACTION

    @property
    def state(self) -> str:
        """The request's state, in words."""
        return request_state(self.request_status, self.manual)


def account_history(session: Session, account_id: str, limit: int = 25) -> list[HistoryEntry]:
    entries = []
    for action, request in ledger.history_of_account(session, account_id, limit):
        reverses = None
        if action.reverses_action_id is not None:
            reverses = ledger.request_of_action(session, action.reverses_action_id)
        entries.append(
            HistoryEntry(
                request_id=request.id,
                action=action.action,
                status=action.status,
                request_status=request.status,
                reason_code=request.reason_code,
                requester=request.requester,
                approvers=ledger.approvers_of(session, request.id),
                result_code=action.result_code,
                error=action.error,
                requested_at=request.created_at,
                finished_at=action.finished_at,
                executed_by=action.executed_by,
                reverses_request_id=reverses,
            )
        )
    return entries


def open_requests_of(session: Session, account_id: str) -> list[HistoryEntry]:
    """The account's actions in requests still open (waiting for approval, approved, executing),
    newest first: what an analyst must see before asking again."""
    return [
        HistoryEntry(
            request_id=request.id,
            action=action.action,
            status=action.status,
            request_status=request.status,
            reason_code=request.reason_code,
            requester=request.requester,
            approvers=ledger.approvers_of(session, request.id),
            result_code=action.result_code,
            error=action.error,
            requested_at=request.created_at,
            finished_at=action.finished_at,
            executed_by=action.executed_by,
            reverses_request_id=None,
            manual=request.manual,
        )
        for action, request in ledger.open_requests_for_account(session, account_id)
    ]


# --- what other concepts read -------------------------------------------------------------------
class ReversedSuspensionLabels:
    """For backtests: a case whose linked suspension was later reversed was not abuse,
    whatever the case's own outcome says (the reversal is the better-informed verdict)."""

    def label(self, session: Session, case: Any) -> bool | None:
        return False if ledger.case_suspension_reversed(session, case.ref) else None

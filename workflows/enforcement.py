"""Enforcement: suspend and reinstate accounts, with four-eyes approval and a durable ledger.

A request names accounts, a reason and evidence; it waits for approval (never by the
requester; more than ``enforcement.second_approval_over`` accounts need two approvers or one
admin). Approval is decided once, by a conditional UPDATE. Each account then has one action
row with a stable idempotency key (``vigil:REQ-n:{account}:{action}``) that the
``Enforcer``'s worker claims under a lease and executes through the gateway with bounded
concurrency, retrying transient failures with backoff. A restart resumes from the rows.
Without a gateway (manual mode) approved actions wait for Engineering to execute them.

This module is Slack-free: Slack renders what the notifier port is given.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import exists, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from store import enforcement as ledger
from store.base import insert_ignore
from store.db import Database
from store.enforcement import (
    ALREADY,
    APPROVED,
    AWAITING_APPROVAL,
    CANCELLED,
    COMPLETED,
    DONE,
    EXECUTED,
    EXPIRED,
    FAILED,
    MANUAL,
    OPEN_ACTION,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RETRYABLE,
    RUNNING,
    EnforcementAction,
    EnforcementApproval,
    EnforcementEvent,
    EnforcementRequest,
)
from workflows import audit
from workflows.cases import timeline
from workflows.clock import Clock, SystemClock
from workflows.config import Enforcement as EnforcementConfig
from workflows.config import format_duration
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.leases import LeaseKeeper
from workflows.metrics import (
    ENFORCEMENT_ACTIONS,
    ENFORCEMENT_CALL_SECONDS,
    ENFORCEMENT_DECISIONS,
    ENFORCEMENT_REFUSALS,
    ENFORCEMENT_REQUESTS,
)
from workflows.ports import MessageRef

log = logging.getLogger(__name__)

Action = Literal["suspend", "reinstate"]
ACTIONS: tuple[Action, ...] = ("suspend", "reinstate")
TARGET_STATE = {"suspend": "suspended", "reinstate": "active"}
# Requests with at most this many accounts get one thread reply per account; larger
# ones (bulk) get a progress message and a summary.
PER_ACCOUNT_REPORTS_UP_TO = 10
SAMPLE_SIZE = 10
_CASE_REF = re.compile(r"\bCASE-(\d+)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]+")
_HEADER_NAMES = {"account", "account_id", "accountid", "id", "account id", "user_id", "ids"}
REINSTATE_CHECKS = {
    "appeal_reviewed": "Appeal reviewed",
    "evidence_rechecked": "Original evidence re-checked",
}


def request_ref(request_id: int) -> str:
    return f"REQ-{request_id}"


def parse_ref(text: str) -> int | None:
    match = re.fullmatch(r"(?:REQ-)?(\d+)", text.strip(), re.IGNORECASE)
    return int(match.group(1)) if match else None


def idempotency_key(request_id: int, account_id: str, action: str) -> str:
    """DESIGN.md contract: the same on every retry and after a restart."""
    return f"vigil:{request_ref(request_id)}:{account_id}:{action}"


# --- reading account lists ---------------------------------------------------------------
def split_ids(text: str) -> list[str]:
    """Ids separated by spaces, commas, semicolons or newlines."""
    return [part for part in _SEPARATORS.split(text or "") if part]


def read_id_file(data: bytes) -> list[str]:
    """A CSV or plain-text list: BOM, a header row, blank lines and extra columns tolerated.

    With a header that names an account column (account_id, id, …) that column is used;
    otherwise the first column of every row.
    """
    text = data.decode("utf-8-sig", errors="replace")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    column = 0
    header = [cell.strip().lower() for cell in rows[0]]
    if any(name in _HEADER_NAMES for name in header):
        column = next(i for i, name in enumerate(header) if name in _HEADER_NAMES)
        rows = rows[1:]
    ids: list[str] = []
    for row in rows:
        if len(row) == 1:
            ids.extend(split_ids(row[0]))  # a text file with several ids on a line
        elif column < len(row) and row[column].strip():
            ids.append(row[column].strip())
    return ids


@dataclass(frozen=True)
class AccountCheck:
    accounts: list[str]  # deduplicated, in first-seen order
    duplicates: list[str]
    malformed: list[str]
    too_many: bool
    header_skipped: bool = False


def check_accounts(ids: Iterable[str], config: EnforcementConfig) -> AccountCheck:
    pattern = config.account_id_regex()
    seen: dict[str, None] = {}
    duplicates: list[str] = []
    malformed: list[str] = []
    for raw in ids:
        account = raw.strip()
        if not account:
            continue
        if not pattern.match(account):
            malformed.append(account)
        elif account in seen:
            duplicates.append(account)
        else:
            seen[account] = None
    accounts = list(seen)
    return AccountCheck(accounts, duplicates, malformed, len(accounts) > config.bulk_max)


def find_case_ref(*texts: str) -> str | None:
    for text in texts:
        match = _CASE_REF.search(text or "")
        if match:
            return f"CASE-{int(match.group(1))}"
    return None


# --- the request ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    """What someone asks for, before it is checked. Field names match the modal's blocks."""

    action: Action
    requester: str
    accounts_text: str = ""
    file_ids: list[str] = field(default_factory=list)
    reason_code: str | None = None
    evidence: str = ""
    note: str = ""
    checklist: list[str] = field(default_factory=list)  # ticked REINSTATE_CHECKS
    root_cause: str = ""
    source: str = "slack"
    origin_channel: str | None = None
    cli_user: str | None = None  # the OS user who ran `vigil enforcement request` (audited)


@dataclass(frozen=True)
class Checked:
    draft: Draft
    accounts: list[str]
    duplicates: list[str]
    errors: dict[str, str]  # field → message, for inline errors

    @property
    def ok(self) -> bool:
        return not self.errors


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def check_draft(draft: Draft, config: EnforcementConfig) -> Checked:
    """Every problem a person can fix, keyed by the field it is about."""
    errors: dict[str, str] = {}
    text_check = check_accounts(split_ids(draft.accounts_text), config)
    file_check = check_accounts(draft.file_ids, config)
    combined = check_accounts([*split_ids(draft.accounts_text), *draft.file_ids], config)
    if text_check.malformed:
        errors["accounts"] = (
            f"{len(text_check.malformed)} id(s) are not account ids: {_names(text_check.malformed)}"
        )
    if file_check.malformed:
        errors["file"] = (
            f"{len(file_check.malformed)} id(s) in the file are not account ids: "
            f"{_names(file_check.malformed)}"
        )
    if not combined.accounts and not combined.malformed:
        errors["accounts"] = "Give at least one account id here, or upload a file."
    elif combined.too_many:
        where = "file" if draft.file_ids else "accounts"
        errors[where] = (
            f"{len(combined.accounts):,} accounts: at most {config.bulk_max:,} in one request. "
            "Split the list."
        )
    if not draft.reason_code:
        errors["reason"] = "Pick a reason."
    elif draft.reason_code not in config.reason_codes:
        errors["reason"] = f"Unknown reason {draft.reason_code!r}; pick one of the list."
    if draft.action == "reinstate":
        missing = [label for key, label in REINSTATE_CHECKS.items() if key not in draft.checklist]
        if missing:
            errors["checklist"] = "Before a reinstatement: " + "; ".join(missing) + "."
        if not draft.root_cause.strip():
            errors["root_cause"] = "Say what went wrong the first time (the root cause)."
    return Checked(draft, combined.accounts, combined.duplicates, errors)


class Refused(Exception):
    """A decision that cannot be taken; the message is for the person who tried."""


class Expired(Refused):
    """The request waited longer than ``enforcement.request_ttl``: nobody may approve it now."""


def _expired_text(ref: str, ttl: timedelta) -> str:
    return (
        f"{ref} expired: nobody approved it within {format_duration(ttl)} (enforcement.request_ttl). "
        "Nothing was executed; ask again if it is still needed."
    )


# --- open requests on an account ------------------------------------------------------------------
REQUEST_STATUS_TEXT = {
    PENDING_APPROVAL: "waiting for approval",
    APPROVED: "approved, executing",
    REJECTED: "rejected",
    COMPLETED: "completed",
    EXPIRED: "expired",
}


def request_state(status: str, manual: bool = False) -> str:
    if status == APPROVED and manual:
        return "approved, awaiting manual execution"
    return REQUEST_STATUS_TEXT.get(status, status)


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
    found: list[OpenAction] = []
    for start in range(0, len(accounts), 500):
        query = (
            select(
                EnforcementAction.account_id,
                EnforcementAction.request_id,
                EnforcementAction.action,
                EnforcementRequest.status,
                EnforcementRequest.manual,
                EnforcementRequest.card_channel,
                EnforcementRequest.card_ts,
            )
            .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
            .where(
                EnforcementAction.account_id.in_(accounts[start : start + 500]),
                EnforcementAction.status.in_(OPEN_ACTION),
            )
            .order_by(EnforcementAction.id)
        )
        if action is not None:
            query = query.where(EnforcementAction.action == action)
        for account, rid, act, status, manual, channel, ts in session.execute(query):
            card = MessageRef(channel, ts) if channel and ts else None
            found.append(OpenAction(account, rid, act, status, bool(manual), card))
    return found


class OpenRequestConflict(Refused):
    """Accounts that already have an open request for the same action: refused, naming them."""

    def __init__(self, action: str, conflicts: list[OpenAction]) -> None:
        self.action = action
        self.conflicts = conflicts
        super().__init__(self.text())

    @property
    def requests(self) -> list[OpenAction]:
        """One entry per open request named, in the order they were asked."""
        seen: dict[int, OpenAction] = {}
        for conflict in self.conflicts:
            seen.setdefault(conflict.request_id, conflict)
        return list(seen.values())

    def text(self, links: dict[int, str] | None = None) -> str:
        """What to tell the person; ``links`` (request id → URL) makes each request findable."""
        links = links or {}

        def named(rid: int) -> str:
            link = links.get(rid)
            return f"{request_ref(rid)} ({link})" if link else request_ref(rid)

        if len(self.conflicts) == 1:
            only = self.conflicts[0]
            return (
                f"{only.account_id} already has an open {self.action} request: {named(only.request_id)}, "
                f"{only.state}. Nothing was created; follow that request instead of asking again."
            )
        shown = ", ".join(f"{c.account_id} ({c.ref})" for c in self.conflicts[:5])
        more = f" and {len(self.conflicts) - 5:,} more" if len(self.conflicts) > 5 else ""
        requests = self.requests
        listed = "; ".join(f"{named(r.request_id)}, {r.state}" for r in requests[:3])
        if len(requests) > 3:
            listed += f"; and {len(requests) - 3} more request(s)"
        return (
            f"{len(self.conflicts):,} accounts already have an open {self.action} request: "
            f"{shown}{more}. Open: {listed}. Nothing was created; remove those accounts and submit again."
        )


def _timeline(
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
    session.add(
        EnforcementEvent(
            request_id=request.id, account_id=account_id, at=at, actor=actor, kind=kind, data=data or {}
        )
    )
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


def _reversed_suspensions(session: Session, accounts: list[str]) -> dict[str, EnforcementAction]:
    """For each account, the latest executed suspension (what a reinstatement reverses)."""
    found: dict[str, EnforcementAction] = {}
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        rows = session.scalars(
            select(EnforcementAction)
            .where(
                EnforcementAction.account_id.in_(chunk),
                EnforcementAction.action == "suspend",
                EnforcementAction.status.in_((*EXECUTED, MANUAL)),
            )
            .order_by(EnforcementAction.id)
        )
        for row in rows:
            found[row.account_id] = row
    return found


def create_request(session: Session, clock: Clock, config: EnforcementConfig, checked: Checked) -> int:
    """Write the request, its accounts' action rows, the event and the audit row; return its id."""
    if not checked.ok:
        raise ValueError(f"cannot create a request with errors: {checked.errors}")
    draft, now = checked.draft, clock.now()
    clashes = open_actions_on(session, checked.accounts, draft.action)
    if clashes:
        ENFORCEMENT_REFUSALS.labels(reason="already_open").inc()
        raise OpenRequestConflict(draft.action, clashes)
    checklist = None
    if draft.action == "reinstate":
        checklist = {key: key in draft.checklist for key in REINSTATE_CHECKS} | {
            "root_cause": draft.root_cause.strip()
        }
    request = EnforcementRequest(
        action=draft.action,
        status=PENDING_APPROVAL,
        requester=draft.requester,
        reason_code=draft.reason_code,
        note=draft.note.strip(),
        evidence=draft.evidence.strip(),
        case_ref=find_case_ref(draft.evidence, draft.note),
        account_count=len(checked.accounts),
        duplicates_removed=len(checked.duplicates),
        checklist=checklist,
        approvals_needed=2 if len(checked.accounts) > config.second_approval_over else 1,
        approvals_count=0,
        manual=False,
        source=draft.source,
        origin_channel=draft.origin_channel,
        round=1,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    reverses = _reversed_suspensions(session, checked.accounts) if draft.action == "reinstate" else {}
    reversed_requests = {action.request_id for action in reverses.values()}
    if len(reversed_requests) == 1:
        request.reverses_request_id = reversed_requests.pop()
    rows = [
        {
            "request_id": request.id,
            "account_id": account,
            "action": draft.action,
            "idempotency_key": idempotency_key(request.id, account, draft.action),
            "status": AWAITING_APPROVAL,
            "reverses_action_id": reverses[account].id if account in reverses else None,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for account in checked.accounts
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(EnforcementAction), rows[start : start + 1000])
    data = {
        "action": draft.action,
        "accounts": len(checked.accounts),
        "sample": checked.accounts[:SAMPLE_SIZE],
        "reason_code": draft.reason_code,
        "note": request.note,
        "evidence": request.evidence,
        "case_ref": request.case_ref,
        "duplicates_removed": len(checked.duplicates),
        "approvals_needed": request.approvals_needed,
        "checklist": checklist,
        "reverses_request_id": request.reverses_request_id,
        "source": draft.source,
    }
    if draft.cli_user:
        data["cli_user"] = draft.cli_user
    _timeline(session, request, now, draft.requester, "requested", data)
    audit.record(
        session,
        at=now,
        actor=draft.requester,
        action="enforcement.requested",
        subject_type="enforcement_request",
        subject_id=request.ref,
        data=data,
    )
    ENFORCEMENT_REQUESTS.labels(action=draft.action).inc()
    return request.id


# --- views: what adapters render ---------------------------------------------------------------
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
    mine, other = aliased(EnforcementAction), aliased(EnforcementAction)
    overlap = (
        select(other.request_id, other.account_id)
        .join(mine, (mine.account_id == other.account_id) & (mine.request_id == request_id))
        .where(other.request_id != request_id, other.status.in_(OPEN_ACTION))
        .subquery()
    )
    rows = session.execute(
        select(
            overlap.c.request_id,
            EnforcementRequest.action,
            EnforcementRequest.status,
            EnforcementRequest.manual,
            func.count(),
        )
        .join(EnforcementRequest, EnforcementRequest.id == overlap.c.request_id)
        .group_by(
            overlap.c.request_id,
            EnforcementRequest.action,
            EnforcementRequest.status,
            EnforcementRequest.manual,
        )
        .order_by(overlap.c.request_id)
    ).all()
    conflicts = []
    for rid, action, status, manual, count in rows:
        accounts = list(
            session.scalars(
                select(overlap.c.account_id)
                .where(overlap.c.request_id == rid)
                .order_by(overlap.c.account_id)
                .limit(sample)
            )
        )
        conflicts.append(Conflict(rid, action, request_state(status, bool(manual)), int(count), accounts))
    return conflicts


def approvers_of(session: Session, request_id: int) -> list[str]:
    return list(
        session.scalars(
            select(EnforcementApproval.approver)
            .where(EnforcementApproval.request_id == request_id, EnforcementApproval.decision == "approve")
            .order_by(EnforcementApproval.id)
        )
    )


def load_view(session: Session, request_id: int) -> RequestView | None:
    request = session.get(EnforcementRequest, request_id)
    if request is None:
        return None
    sample = list(
        session.scalars(
            select(EnforcementAction.account_id)
            .where(EnforcementAction.request_id == request_id)
            .order_by(EnforcementAction.id)
            .limit(SAMPLE_SIZE)
        )
    )
    approvers = approvers_of(session, request_id)
    card = None
    if request.card_channel and request.card_ts:
        card = MessageRef(request.card_channel, request.card_ts)
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
        sample=sample,
        duplicates_removed=request.duplicates_removed,
        approvals_needed=request.approvals_needed,
        approvers=approvers,
        decided_by=request.decided_by,
        rejection_reason=request.rejection_reason,
        manual=request.manual,
        precheck=request.precheck,
        checklist=request.checklist,
        reverses_request_id=request.reverses_request_id,
        card=card,
        progress_ts=request.progress_ts,
        origin_channel=request.origin_channel,
        counts=ledger.status_counts(session, request_id),
        round=request.round,
        created_at=request.created_at,
        recommendations=list(request.recommendations or []),
        second_review=request.second_review,
        conflicts=conflicts_of(session, request_id) if request.status == PENDING_APPROVAL else [],
    )


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


def _action_view(row: EnforcementAction) -> ActionView:
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
    query = select(EnforcementAction).where(EnforcementAction.request_id == request_id)
    if statuses is not None:
        query = query.where(EnforcementAction.status.in_(list(statuses)))
    return [_action_view(row) for row in session.scalars(query.order_by(EnforcementAction.id))]


def set_card(session: Session, request_id: int, card: MessageRef) -> None:
    session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id)
        .values(card_channel=card.channel, card_ts=card.ts)
    )


# --- deciding ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    request_id: int
    final: bool  # True when this decision approved or rejected the request
    status: str
    approvals_remaining: int


def _explain_decided(session: Session, request: EnforcementRequest, user: str) -> str:
    if request.status == PENDING_APPROVAL:
        return (
            f"You already approved {request.ref}; it needs another approver "
            "(someone other than you and the requester) or an admin."
        )
    if request.status == EXPIRED:
        return f"{request.ref} expired: nobody approved it in time. Nothing was executed or changed."
    by = f" by <@{request.decided_by}>" if request.decided_by else ""
    word = "rejected" if request.status == REJECTED else "approved"
    return f"{request.ref} was already {word}{by}. Nothing changed."


def _is_stale(request: EnforcementRequest, now: datetime, ttl: timedelta) -> bool:
    """Pending and as old as ``ttl`` or older: the boundary expire_requests uses too."""
    return request.status == PENDING_APPROVAL and request.created_at <= now - ttl


def approve(
    session: Session,
    clock: Clock,
    request_id: int,
    approver: str,
    *,
    is_admin: bool,
    manual: bool,
    ttl: timedelta | None = None,
) -> Decision:
    """Record one approval; the one that completes the request releases its actions.

    Decided by a conditional UPDATE: only a pending request younger than ``ttl``, never by its
    requester, never twice by the same person. Raises Refused (and changes nothing) otherwise;
    Expired when the request is too old (the caller expires it, in its own unit of work).
    """
    now = clock.now()
    request = session.get(EnforcementRequest, request_id)
    if request is None:
        raise Refused(f"{request_ref(request_id)} does not exist.")
    if request.requester == approver:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused(f"You asked for {request.ref}, so someone else must approve it (four-eyes).")
    already = exists().where(
        EnforcementApproval.request_id == request_id,
        EnforcementApproval.approver == approver,
        EnforcementApproval.decision == "approve",
    )
    # The decision itself: one statement that only a pending request still within its time,
    # someone other than the requester, and a person who has not approved it yet can pass.
    fresh = EnforcementRequest.created_at > now - ttl if ttl is not None else true()
    result = session.execute(
        update(EnforcementRequest)
        .where(
            EnforcementRequest.id == request_id,
            EnforcementRequest.status == PENDING_APPROVAL,
            EnforcementRequest.requester != approver,
            fresh,
            ~already,
        )
        .values(approvals_count=EnforcementRequest.approvals_count + 1, updated_at=now)
        .returning(EnforcementRequest.approvals_count, EnforcementRequest.approvals_needed)
        .execution_options(synchronize_session=False)
    ).first()
    if result is None:
        session.refresh(request)
        if ttl is not None and _is_stale(request, now, ttl):
            ENFORCEMENT_REFUSALS.labels(reason="expired").inc()
            raise Expired(_expired_text(request.ref, ttl))
        ENFORCEMENT_REFUSALS.labels(reason="already_decided").inc()
        raise Refused(_explain_decided(session, request, approver))
    if not insert_ignore(
        session,
        EnforcementApproval.__table__,  # type: ignore[arg-type]
        {"request_id": request_id, "approver": approver, "decision": "approve", "at": now},
        ["request_id", "approver", "decision"],
    ):
        raise Refused(f"You already approved {request.ref}.")  # a concurrent double click; rolls back
    count, needed = result
    final = is_admin or count >= needed
    if final:
        # The row is ours until commit (locked by the UPDATE above; SQLite: BEGIN IMMEDIATE).
        session.execute(
            update(EnforcementRequest)
            .where(EnforcementRequest.id == request_id, EnforcementRequest.status == PENDING_APPROVAL)
            .values(status=APPROVED, decided_by=approver, decided_at=now, manual=manual)
            .execution_options(synchronize_session=False)
        )
    session.refresh(request)
    status = request.status
    data = {
        "approvals": count,
        "approvals_needed": request.approvals_needed,
        "as_admin": is_admin,
        "final": final,
    }
    _timeline(session, request, now, approver, "approved" if final else "approval", data)
    audit.record(
        session,
        at=now,
        actor=approver,
        action="enforcement.approved" if final else "enforcement.approval",
        subject_type="enforcement_request",
        subject_id=request.ref,
        data=data,
    )
    if final:
        released = session.execute(
            update(EnforcementAction)
            .where(EnforcementAction.request_id == request_id, EnforcementAction.status == AWAITING_APPROVAL)
            .values(status=MANUAL if manual else PENDING, updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        ENFORCEMENT_DECISIONS.labels(decision="approved").inc()
        log.info("enforcement request approved", extra={"request": request.ref, "actions": released})
    return Decision(request_id, final, status, 0 if final else request.approvals_needed - count)


def reject(
    session: Session,
    clock: Clock,
    request_id: int,
    approver: str,
    reason: str,
    *,
    ttl: timedelta | None = None,
) -> Decision:
    now = clock.now()
    reason = reason.strip()
    if not reason:
        raise Refused("Say why you reject it.")
    request = session.get(EnforcementRequest, request_id)
    if request is None:
        raise Refused(f"{request_ref(request_id)} does not exist.")
    if request.requester == approver:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused(f"You asked for {request.ref}; another approver decides it (four-eyes).")
    if ttl is not None and _is_stale(request, now, ttl):
        raise Expired(_expired_text(request.ref, ttl))  # it expires: nothing left to reject
    result = session.execute(
        update(EnforcementRequest)
        .where(
            EnforcementRequest.id == request_id,
            EnforcementRequest.status == PENDING_APPROVAL,
            EnforcementRequest.requester != approver,
        )
        .values(status=REJECTED, decided_by=approver, decided_at=now, rejection_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.refresh(request)
        ENFORCEMENT_REFUSALS.labels(reason="already_decided").inc()
        raise Refused(_explain_decided(session, request, approver))
    session.refresh(request)
    insert_ignore(
        session,
        EnforcementApproval.__table__,  # type: ignore[arg-type]
        {"request_id": request_id, "approver": approver, "decision": "reject", "reason": reason, "at": now},
        ["request_id", "approver", "decision"],
    )
    session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == AWAITING_APPROVAL)
        .values(status=CANCELLED, updated_at=now, finished_at=now)
    )
    _timeline(session, request, now, approver, "rejected", {"reason": reason})
    audit.record(
        session,
        at=now,
        actor=approver,
        action="enforcement.rejected",
        subject_type="enforcement_request",
        subject_id=request.ref,
        data={"reason": reason},
    )
    ENFORCEMENT_DECISIONS.labels(decision="rejected").inc()
    return Decision(request_id, True, REJECTED, 0)


def check_can_decide(
    session: Session, request_id: int, user: str, *, now: datetime | None = None, ttl: timedelta | None = None
) -> None:
    """The same rules as approve/reject, read-only: to refuse before opening a modal."""
    request = session.get(EnforcementRequest, request_id)
    if request is None:
        raise Refused(f"{request_ref(request_id)} does not exist.")
    if request.requester == user:
        raise Refused(f"You asked for {request.ref}; another approver decides it (four-eyes).")
    if now is not None and ttl is not None and _is_stale(request, now, ttl):
        raise Expired(_expired_text(request.ref, ttl))
    if request.status != PENDING_APPROVAL:
        raise Refused(_explain_decided(session, request, user))


def expire_requests(
    session: Session, clock: Clock, ttl: timedelta, request_id: int | None = None
) -> list[int]:
    """Expire pending requests older than ``ttl`` (or just ``request_id``); return their ids.

    One conditional UPDATE decides, so an approval racing it either lands first (and the
    request is approved) or finds the request expired. Their actions are cancelled, so
    nothing of them can ever execute.
    """
    now = clock.now()
    stmt = update(EnforcementRequest).where(
        EnforcementRequest.status == PENDING_APPROVAL, EnforcementRequest.created_at <= now - ttl
    )
    if request_id is not None:
        stmt = stmt.where(EnforcementRequest.id == request_id)
    expired = list(
        session.scalars(
            stmt.values(status=EXPIRED, updated_at=now)
            .returning(EnforcementRequest.id)
            .execution_options(synchronize_session=False)
        )
    )
    for rid in sorted(expired):
        cancelled = session.execute(
            update(EnforcementAction)
            .where(EnforcementAction.request_id == rid, EnforcementAction.status == AWAITING_APPROVAL)
            .values(status=CANCELLED, updated_at=now, finished_at=now)
        ).rowcount  # type: ignore[attr-defined]
        request = session.get(EnforcementRequest, rid)
        assert request is not None
        session.refresh(request)
        data = {
            "ttl": format_duration(ttl),
            "requested_at": request.created_at.isoformat(),
            "cancelled": cancelled,
        }
        _timeline(session, request, now, "vigil", "expired", data)
        audit.record(
            session,
            at=now,
            actor="vigil",
            action="enforcement.expired",
            subject_type="enforcement_request",
            subject_id=request.ref,
            data=data,
        )
        ENFORCEMENT_DECISIONS.labels(decision="expired").inc()
    return sorted(expired)


# --- manual mode and retries ------------------------------------------------------------------------
def mark_manual_done(
    session: Session, clock: Clock, request_id: int, engineer: str, *, is_engineer: bool
) -> int:
    """Engineering executed the hand-off by hand: record it (audited) and close the request.

    Only an engineer (``roles.engineers``) or an admin records it, and never the requester:
    recording execution is the last step of four-eyes, not a way around it.
    """
    now = clock.now()
    request = session.get(EnforcementRequest, request_id)
    if request is None:
        raise Refused(f"{request_ref(request_id)} does not exist.")
    if request.requester == engineer:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused(f"You asked for {request.ref}, so someone else records that it was executed.")
    if not is_engineer:
        ENFORCEMENT_REFUSALS.labels(reason="not_engineer").inc()
        raise Refused(
            "Only Vigil engineers (`roles.engineers`) or admins record manual execution. "
            "Ask a T&S admin to add you to `roles.engineers` in Vigil's config."
        )
    accounts = list(
        session.scalars(
            select(EnforcementAction.account_id).where(
                EnforcementAction.request_id == request_id, EnforcementAction.status == MANUAL
            )
        )
    )
    if not accounts:
        raise Refused(f"{request.ref} has nothing awaiting manual execution. Nothing changed.")
    session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == MANUAL)
        .values(status=DONE, executed_by=engineer, finished_at=now, updated_at=now)
    )
    data = {"accounts": len(accounts), "sample": accounts[:SAMPLE_SIZE]}
    _timeline(session, request, now, engineer, "executed_manually", data)
    audit.record(
        session,
        at=now,
        actor=engineer,
        action="enforcement.manual_done",
        subject_type="enforcement_request",
        subject_id=request.ref,
        data=data,
    )
    ENFORCEMENT_ACTIONS.labels(action=request.action, outcome="manual_done").inc(len(accounts))
    _complete_if_finished(session, now, request_id, engineer)
    return len(accounts)


def retry_failed(session: Session, clock: Clock, request_id: int | None, actor: str) -> dict[int, int]:
    """Put ``failed (retryable)`` actions back in the queue, with the same idempotency keys.

    Returns {request_id: actions requeued}. Permanent failures (404, 400, 422) stay failed.
    """
    now = clock.now()
    query = select(EnforcementAction.request_id, func.count()).where(EnforcementAction.status == RETRYABLE)
    if request_id is not None:
        query = query.where(EnforcementAction.request_id == request_id)
    candidates = [rid for rid, _n in session.execute(query.group_by(EnforcementAction.request_id))]
    # An account asked for again since (a newer open request for the same action) is that
    # request's now: reopening this one would break "one open action per account and action".
    other = aliased(EnforcementAction)
    taken = exists().where(
        other.account_id == EnforcementAction.account_id,
        other.action == EnforcementAction.action,
        other.status.in_(OPEN_ACTION),
        other.id != EnforcementAction.id,
    )
    counts: dict[int, int] = {}
    for rid in candidates:
        n = session.execute(
            update(EnforcementAction)
            .where(EnforcementAction.request_id == rid, EnforcementAction.status == RETRYABLE, ~taken)
            .values(
                status=PENDING,
                first_attempt_at=None,
                next_attempt_at=None,
                finished_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not n:
            continue
        counts[rid] = int(n)
        request = session.get(EnforcementRequest, rid)
        assert request is not None
        request.status = APPROVED
        request.round += 1
        request.completed_at = None
        request.updated_at = now
        _timeline(session, request, now, actor, "retry", {"actions": n})
        audit.record(
            session,
            at=now,
            actor=actor,
            action="enforcement.retry",
            subject_type="enforcement_request",
            subject_id=request.ref,
            data={"actions": n, "round": request.round},
        )
    return counts


def _complete_if_finished(session: Session, now: datetime, request_id: int, actor: str) -> bool:
    """Close an approved request with nothing outstanding. Exactly one caller wins."""
    outstanding = exists().where(
        EnforcementAction.request_id == request_id, EnforcementAction.status.in_(ledger.OUTSTANDING)
    )
    result = session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id, EnforcementRequest.status == APPROVED, ~outstanding)
        .values(status=COMPLETED, completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    request = session.get(EnforcementRequest, request_id)
    assert request is not None
    session.refresh(request)
    counts = ledger.status_counts(session, request_id)
    _timeline(session, request, now, actor, "completed", {"counts": counts, "round": request.round})
    audit.record(
        session,
        at=now,
        actor=actor,
        action="enforcement.completed",
        subject_type="enforcement_request",
        subject_id=request.ref,
        data={"counts": counts, "round": request.round},
    )
    return True


# --- queries for people -----------------------------------------------------------------------------
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
    rows = session.execute(
        select(EnforcementAction, EnforcementRequest)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementAction.account_id == account_id)
        .order_by(EnforcementAction.id.desc())
        .limit(limit)
    ).all()
    entries = []
    for action, request in rows:
        approvers = approvers_of(session, request.id)
        reverses = None
        if action.reverses_action_id is not None:
            reverses = session.scalar(
                select(EnforcementAction.request_id).where(EnforcementAction.id == action.reverses_action_id)
            )
        entries.append(
            HistoryEntry(
                request_id=request.id,
                action=action.action,
                status=action.status,
                request_status=request.status,
                reason_code=request.reason_code,
                requester=request.requester,
                approvers=approvers,
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
    rows = session.execute(
        select(EnforcementAction, EnforcementRequest)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementAction.account_id == account_id, EnforcementAction.status.in_(OPEN_ACTION))
        .order_by(EnforcementAction.id.desc())
    ).all()
    return [
        HistoryEntry(
            request_id=request.id,
            action=action.action,
            status=action.status,
            request_status=request.status,
            reason_code=request.reason_code,
            requester=request.requester,
            approvers=approvers_of(session, request.id),
            result_code=action.result_code,
            error=action.error,
            requested_at=request.created_at,
            finished_at=action.finished_at,
            executed_by=action.executed_by,
            reverses_request_id=None,
            manual=request.manual,
        )
        for action, request in rows
    ]


def list_requests(session: Session, status: str | None = None, limit: int = 50) -> list[RequestView]:
    query = select(EnforcementRequest.id).order_by(EnforcementRequest.id.desc()).limit(limit)
    if status:
        query = query.where(EnforcementRequest.status == status)
    views = [load_view(session, rid) for rid in session.scalars(query)]
    return [view for view in views if view is not None]


@dataclass(frozen=True)
class ReversalRate:
    suspended: int
    reversed: int

    @property
    def rate(self) -> float:
        return self.reversed / self.suspended if self.suspended else 0.0


def reversal_rate(session: Session, since: datetime | None = None) -> ReversalRate:
    """Executed suspensions, and how many of them an executed reinstatement reversed."""
    suspensions = select(EnforcementAction.id).where(
        EnforcementAction.action == "suspend", EnforcementAction.status == DONE
    )
    if since is not None:
        suspensions = suspensions.where(EnforcementAction.finished_at >= since)
    suspended_ids = suspensions.subquery()
    suspended = session.scalar(select(func.count()).select_from(suspended_ids)) or 0
    reversed_count = (
        session.scalar(
            select(func.count(func.distinct(EnforcementAction.reverses_action_id))).where(
                EnforcementAction.action == "reinstate",
                EnforcementAction.status.in_(EXECUTED),
                EnforcementAction.reverses_action_id.in_(select(suspended_ids.c.id)),
            )
        )
        or 0
    )
    return ReversalRate(int(suspended), int(reversed_count))


# --- the gateway port and its policy ---------------------------------------------------------------
Kind = Literal["done", "already", "permanent", "transient"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status: int | None  # HTTP status; None for a timeout or connection error
    detail: str = ""
    retry_after: float | None = None  # seconds, from Retry-After


@dataclass(frozen=True)
class ActionCall:
    account_id: str
    action: str
    idempotency_key: str
    reason_code: str
    note: str
    request_ref: str
    actor: str
    approved_by: list[str]


class EnforcementGateway(Protocol):
    """The platform's enforcement API. ``execute`` makes one attempt and classifies it."""

    def execute(self, call: ActionCall) -> Outcome: ...

    def lookup(self, account_id: str) -> str | None:
        """The account's state ("active", "suspended", …), "unknown" for a 404, None if the API
        cannot tell right now."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """DESIGN.md: exponential backoff with jitter from 1 s, capped at 60 s, honouring
    Retry-After; after 10 minutes of transient failure the action is failed (retryable)."""

    base: float = 1.0
    cap: float = 60.0
    give_up_after: timedelta = timedelta(minutes=10)

    def delay(self, attempt: int, retry_after: float | None) -> timedelta:
        backoff = random.uniform(0.5, 1.0) * min(self.cap, self.base * 2 ** max(0, attempt - 1))
        if retry_after is not None:
            backoff = max(retry_after, backoff)
        return timedelta(seconds=backoff)


@dataclass(frozen=True)
class EnforcerOptions:
    """Timings, injectable so tests never wait for real backoff."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Short, because a heartbeat renews it every lease/3 while the call is in flight: a dead
    # process's actions are taken over within one lease of a restart.
    lease: timedelta = timedelta(seconds=30)
    heartbeat_every: float | None = None  # seconds; None: lease / 3
    poll_seconds: float = 1.0
    progress_every: float = 5.0  # seconds between progress message updates (bulk)
    flush_every: float = 0.2  # seconds between result writes while calls are in flight
    flush_batch: int = 64
    backlog_factor: int = 4  # calls handed to the pool at once, per unit of concurrency
    call_timeout: float = 10.0  # the overall deadline of one call to the enforcement API
    monotonic: Callable[[], float] = time.monotonic


# --- the notifier port ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    request: RequestView
    failures: list[ActionView]  # failed and failed (retryable)


class EnforcementNotifier(Protocol):
    """Vigil's words about enforcement, back to the team (Slack renders them)."""

    def post_card(self, request: RequestView) -> MessageRef: ...

    def update_card(self, request: RequestView) -> None: ...

    def requester_link(self, request: RequestView, checked_duplicates: list[str]) -> None: ...

    def decision(self, request: RequestView, by: str, final: bool) -> None: ...

    def account_results(self, request: RequestView, results: list[ActionView]) -> None: ...

    def progress(self, request: RequestView) -> str | None:
        """Post or update the progress message (request.progress_ts); return its ts."""
        ...

    def summary(self, summary: Summary) -> None: ...

    def hand_off(self, request: RequestView, accounts: list[str]) -> None: ...

    def manual_done(self, request: RequestView, engineer: str, count: int) -> None: ...

    def retrying(self, request: RequestView, by: str, count: int) -> None: ...


# --- the enforcer: facade for adapters and the background worker -------------------------------------
@dataclass
class _Claimed:
    action_id: int
    request_id: int
    call: ActionCall
    future: Future[Outcome] | None = None


@dataclass
class _Result:
    claimed: _Claimed
    outcome: Outcome | None  # None: not called, its lease may have run out (someone else's now)


class ReversedSuspensionLabels:
    """For backtests: a case whose linked suspension was later reversed was not abuse,
    whatever the case's own outcome says (the reversal is the better-informed verdict)."""

    def label(self, session: Session, case: Any) -> bool | None:
        reversed_action = (
            select(EnforcementAction.id)
            .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
            .where(
                EnforcementRequest.case_ref == case.ref,
                EnforcementAction.action == "suspend",
                EnforcementAction.id.in_(
                    select(EnforcementAction.reverses_action_id).where(
                        EnforcementAction.reverses_action_id.is_not(None),
                        EnforcementAction.status.in_(EXECUTED),
                    )
                ),
            )
            .limit(1)
        )
        return False if session.scalars(reversed_action).first() is not None else None


JOB_ANNOUNCE = "enforcement.announce"
JOB_CARD = "enforcement.card"  # bring a card up to date (expired, a conflicting request appeared)
JOB_PRECHECK = "enforcement.precheck"
JOB_RESULTS = "enforcement.results"
JOB_SUMMARY = "enforcement.summary"


class RequestRules(Protocol):
    """Playbook rules for trigger ``enforcement.requested``, run in the request's transaction."""

    def apply(self, session: Session, request: EnforcementRequest) -> Any: ...


class Enforcer:
    """Runs the enforcement lifecycle: adapters call its methods (one unit of work each, then
    notify), and its worker executes approved actions in the background.

    ``gateway`` None is manual mode. ``concurrency`` bounds calls in flight in this process.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: EnforcementConfig,
        notifier: EnforcementNotifier,
        gateway: EnforcementGateway | None,
        options: EnforcerOptions | None = None,
        rules: RequestRules | None = None,
        jobs: JobRunner | None = None,
        lease_clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.rules = rules
        self.jobs = jobs
        if jobs is not None:
            jobs.register(
                JOB_ANNOUNCE, lambda p: self.announce(int(p["request_id"]), list(p.get("duplicates", [])))
            )
            jobs.register(JOB_PRECHECK, lambda p: self.precheck(int(p["request_id"])))
            jobs.register(JOB_RESULTS, self._results_job)
            jobs.register(JOB_SUMMARY, self._summary_job)
            jobs.register(JOB_CARD, self._card_job)
        self.notifier = notifier
        self.gateway = gateway
        self.options = options or EnforcerOptions()
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # A call is never started with less than its deadline left on its lease, so even with
        # no heartbeat reaching the database it ends before anyone else may take the row.
        self.leases = LeaseKeeper(
            db,
            EnforcementAction,
            self.worker_id,
            self.options.lease,
            lease_clock or SystemClock(),
            every=self.options.heartbeat_every,
            margin=self.options.call_timeout,
            monotonic=self.options.monotonic,
            name="enforcement",
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._requests: dict[int, dict[str, Any]] = {}
        self._last_progress: dict[int, float] = {}
        self._lock = threading.Lock()

    @property
    def manual(self) -> bool:
        return self.gateway is None

    # --- requests and decisions (called by adapters) ----------------------------------------------
    def view(self, request_id: int) -> RequestView | None:
        with self.db.read() as session:
            return load_view(session, request_id)

    def create(self, checked: Checked) -> int:
        """Write the request (one unit of work) and queue its announcement in the same one:
        a Slack outage or a restart delays the approval card, never loses it.

        Raises OpenRequestConflict when an account already has an open request for the same
        action, also when a concurrent request won the race (the database's unique index).
        """
        try:
            with self.db.transaction() as session:
                request_id = create_request(session, self.clock, self.config, checked)
                if self.rules is not None:
                    request = session.get(EnforcementRequest, request_id)
                    assert request is not None
                    self.rules.apply(session, request)
                if self.jobs is not None:
                    payload = {"request_id": request_id, "duplicates": checked.duplicates[:50]}
                    enqueue(
                        session, self.clock, JOB_ANNOUNCE, payload, key=f"enforcement-announce:{request_id}"
                    )
                # Open requests of the other action on these accounts show this one on their cards.
                self._queue_others(session, request_id, "conflict")
        except IntegrityError:
            with self.db.read() as session:
                clashes = open_actions_on(session, checked.accounts, checked.draft.action)
            if not clashes:
                raise
            ENFORCEMENT_REFUSALS.labels(reason="already_open").inc()
            raise OpenRequestConflict(checked.draft.action, clashes) from None
        if self.jobs is not None:
            self.jobs.wake()
        return request_id

    def _queue_card(self, session: Session, request_id: int, why: str) -> None:
        """Update a card from the jobs table, queued with the change it shows: a Slack outage
        or a restart delays the update, never loses it."""
        if self.jobs is not None:
            enqueue(
                session,
                self.clock,
                JOB_CARD,
                {"request_id": request_id},
                key=f"enforcement-card:{request_id}:{why}",
            )

    def _queue_others(self, session: Session, request_id: int, why: str) -> list[int]:
        """Cards of the other open requests on this one's accounts name it and its state:
        queue their update (it was asked, decided or expired). Returns their ids."""
        others = sorted({c.request_id for c in conflicts_of(session, request_id)})
        for other in others:
            self._queue_card(session, other, f"{why}:{request_id}")
        return others

    def _cards_changed(self, request_ids: Iterable[int]) -> None:
        """After the commit: the job worker updates queued cards; without one, do it here."""
        ids = sorted(set(request_ids))
        if self.jobs is not None:
            if ids:
                self.jobs.wake()
            return
        for rid in ids:
            self._refresh_card(rid)

    def _card_job(self, payload: dict[str, Any]) -> None:
        view = self.view(int(payload["request_id"]))
        if view is None:
            raise PermanentJobError(f"{request_ref(int(payload['request_id']))} does not exist")
        if view.card is not None:  # not posted yet: the announcement posts it as it is now
            self.notifier.update_card(view)  # raises: the job retries it

    def expire_due(self, request_id: int | None = None) -> list[int]:
        """The scheduled tick (and an approval that finds its request too old): expire pending
        requests older than ``enforcement.request_ttl`` and queue their cards' update."""
        touched: list[int] = []
        with self.db.transaction() as session:
            expired = expire_requests(session, self.clock, self.config.request_ttl, request_id)
            for rid in expired:
                self._queue_card(session, rid, "expired")
                touched += [rid, *self._queue_others(session, rid, "expired")]
        if expired:
            log.info("enforcement requests expired", extra={"requests": [request_ref(r) for r in expired]})
        self._cards_changed(touched)
        return expired

    def announce(self, request_id: int, duplicates: list[str]) -> RequestView:
        """Put the request in front of approvers, tell the requester where, and queue the bulk
        pre-check. Raises when the card cannot be posted, so the job retries it."""
        view = self.view(request_id)
        if view is None:
            raise PermanentJobError(f"{request_ref(request_id)} does not exist")
        if view.card is None:
            card = self.notifier.post_card(view)
            with self.db.transaction() as session:
                set_card(session, request_id, card)
            view = self.view(request_id)
            assert view is not None
            try:
                self.notifier.requester_link(view, duplicates)
            except Exception:  # the card is up; a missing link is not worth a second card
                log.warning("could not tell the requester", extra={"request": view.ref}, exc_info=True)
        if view.bulk and self.gateway is not None and view.precheck is None and self.jobs is not None:
            with self.db.transaction() as session:
                enqueue(
                    session,
                    self.clock,
                    JOB_PRECHECK,
                    {"request_id": request_id},
                    key=f"enforcement-precheck:{request_id}",
                    max_attempts=3,
                )
            self.jobs.wake()
        return view

    def submit(self, checked: Checked) -> int:
        """Create the request; the job worker (or the caller, with run_until_idle) announces it."""
        return self.create(checked)

    def check_can_decide(self, request_id: int, user: str) -> None:
        try:
            with self.db.read() as session:
                check_can_decide(session, request_id, user, now=self.clock.now(), ttl=self.config.request_ttl)
        except Expired:
            self.expire_due(request_id)
            raise

    def precheck(self, request_id: int) -> dict[str, Any] | None:
        """Ask the API what it knows of each account (already in the target state, unknown)."""
        gateway = self.gateway
        if gateway is None:
            return None
        with self.db.read() as session:
            accounts = list(
                session.scalars(
                    select(EnforcementAction.account_id)
                    .where(EnforcementAction.request_id == request_id)
                    .order_by(EnforcementAction.id)
                )
            )
            view = load_view(session, request_id)
        if view is None:
            return None
        target = TARGET_STATE[view.action]
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="vigil-precheck") as pool:
            states = list(pool.map(gateway.lookup, accounts))
        unknown = [a for a, s in zip(accounts, states, strict=True) if s == "unknown"]
        already = [a for a, s in zip(accounts, states, strict=True) if s == target]
        untold = sum(1 for s in states if s is None)
        result = {
            "already": len(already),
            "already_sample": already[:SAMPLE_SIZE],
            "unknown": len(unknown),
            "unknown_sample": unknown[:SAMPLE_SIZE],
            "not_checked": untold,
        }
        with self.db.transaction() as session:
            session.execute(
                update(EnforcementRequest).where(EnforcementRequest.id == request_id).values(precheck=result)
            )
        self._refresh_card(request_id)
        return result

    def approve(self, request_id: int, approver: str, *, is_admin: bool) -> Decision:
        try:
            with self.db.transaction() as session:
                decision = approve(
                    session,
                    self.clock,
                    request_id,
                    approver,
                    is_admin=is_admin,
                    manual=self.manual,
                    ttl=self.config.request_ttl,
                )
                others = self._queue_others(session, request_id, "approved") if decision.final else []
        except Expired:
            self.expire_due(request_id)  # on access: the card says so now, not at the next tick
            raise
        self._cards_changed(others)
        view = self.view(request_id)
        assert view is not None
        self._safely(self.notifier.update_card, view)
        self._safely(self.notifier.decision, view, approver, decision.final)
        if decision.final:
            if self.manual:
                with self.db.read() as session:
                    accounts = [a.account_id for a in actions_of(session, request_id, [MANUAL])]
                self._safely(self.notifier.hand_off, view, accounts)
            else:
                self.wake()
        return decision

    def reject(self, request_id: int, approver: str, reason: str) -> Decision:
        try:
            with self.db.transaction() as session:
                decision = reject(
                    session, self.clock, request_id, approver, reason, ttl=self.config.request_ttl
                )
                others = self._queue_others(session, request_id, "rejected")
        except Expired:
            self.expire_due(request_id)
            raise
        self._cards_changed(others)
        view = self.view(request_id)
        assert view is not None
        self._safely(self.notifier.update_card, view)
        self._safely(self.notifier.decision, view, approver, True)
        return decision

    def mark_manual_done(self, request_id: int, engineer: str, *, is_engineer: bool) -> int:
        with self.db.transaction() as session:
            count = mark_manual_done(session, self.clock, request_id, engineer, is_engineer=is_engineer)
        view = self.view(request_id)
        assert view is not None
        self._safely(self.notifier.manual_done, view, engineer, count)
        self._safely(self.notifier.update_card, view)
        return count

    def retry_failed(self, request_id: int | None, actor: str) -> dict[int, int]:
        with self.db.transaction() as session:
            counts = retry_failed(session, self.clock, request_id, actor)
        for rid, count in counts.items():
            view = self.view(rid)
            if view is not None:
                self._safely(self.notifier.retrying, view, actor, count)
                self._safely(self.notifier.update_card, view)
        if counts:
            self.wake()
        return counts

    def _safely(self, func: Callable[..., Any], *args: Any) -> None:
        """Slack is a view of the ledger: a failed post is logged, the ledger stays right."""
        try:
            func(*args)
        except Exception:
            log.exception("enforcement notification failed", extra={"what": getattr(func, "__name__", "")})

    def _refresh_card(self, request_id: int) -> None:
        view = self.view(request_id)
        if view is not None and view.card is not None:
            self._safely(self.notifier.update_card, view)

    # --- the worker -------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        """Resume whatever is due (a restart picks up where the last process stopped)."""
        if self.manual or self._thread is not None:
            return
        self._stop.clear()
        self.leases.start_heartbeat()
        self._thread = threading.Thread(target=self._loop, name="vigil-enforcement", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Stop claiming and give back the calls not started yet, now; the calls in flight
        keep their leases until they end (safe in a signal handler: it only sets flags)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; finish and record the calls in flight; give back the rest."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            self.leases.stop_heartbeat()

    def run_until_idle(self) -> int:
        """Run in this thread until nothing is due (tests, the CLI); returns calls made."""
        with self.leases.beating():
            return self._drain(until_idle=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain(until_idle=False)
            except Exception:
                log.exception("enforcement worker round failed; retrying")
            self._wake.wait(self.options.poll_seconds)
            self._wake.clear()

    def _drain(self, *, until_idle: bool) -> int:
        gateway = self.gateway
        if gateway is None:
            return 0
        concurrency = self.config.concurrency
        # Calls handed to the pool at once: enough to keep it busy while results are written,
        # few enough that a crash strands little (a dead worker's leases run out and are retried).
        backlog = self.options.backlog_factor * concurrency
        in_flight: list[_Claimed] = []
        results: list[_Result] = []
        calls = 0
        last_flush = self.options.monotonic()
        try:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="vigil-enforce") as pool:
                while True:
                    if self._stop.is_set():
                        # Stop: calls not started yet are given back; the ones under way finish below.
                        not_started = [c for c in in_flight if c.future is not None and c.future.cancel()]
                        if not_started:
                            self._release(not_started)
                            gone = {id(c) for c in not_started}
                            in_flight = [c for c in in_flight if id(c) not in gone]
                            calls -= len(not_started)
                    elif len(in_flight) <= backlog - concurrency:
                        for claimed in self._claim(backlog - len(in_flight)):
                            claimed.future = pool.submit(self._call, gateway, claimed)
                            in_flight.append(claimed)
                            calls += 1
                    if not in_flight:
                        self._flush(results)
                        results = []
                        if until_idle and not self._stop.is_set() and self._has_due():
                            continue
                        return calls
                    futures = [c.future for c in in_flight if c.future is not None]
                    wait(futures, timeout=self.options.flush_every, return_when=FIRST_COMPLETED)
                    pending = []
                    for claimed in in_flight:
                        if claimed.future is not None and claimed.future.done():
                            results.append(_Result(claimed, claimed.future.result()))
                        else:
                            pending.append(claimed)
                    in_flight = pending
                    now = self.options.monotonic()
                    due = now - last_flush >= self.options.flush_every
                    if len(results) >= self.options.flush_batch or due:
                        self._flush(results)
                        results = []
                        last_flush = now
        finally:
            # A round that failed (the database, mostly) stops renewing what it could not record:
            # those leases run out and the actions are retried, with the same keys.
            self.leases.forget([c.action_id for c in in_flight] + [r.claimed.action_id for r in results])

    def _call(self, gateway: EnforcementGateway, claimed: _Claimed) -> Outcome | None:
        if not self.leases.start(claimed.action_id):
            return None
        call = claimed.call
        started = time.perf_counter()
        try:
            return gateway.execute(call)
        except Exception as exc:  # a bug or an unexpected library error: retry, never lose it
            log.exception("enforcement gateway raised", extra={"account": call.account_id})
            return Outcome("transient", None, f"{type(exc).__name__}: {exc}")
        finally:
            ENFORCEMENT_CALL_SECONDS.observe(time.perf_counter() - started)

    def _has_due(self) -> bool:
        with self.db.read() as session:
            return ledger.due_exists(session, self.clock.now(), self.leases.clock.now(), self.leases.held())

    def _claim(self, limit: int) -> list[_Claimed]:
        if limit <= 0:
            return []
        now = self.clock.now()
        with self.leases.claiming() as claim, self.db.transaction() as session:
            ids = ledger.claim_due(
                session, self.worker_id, now, claim.lease_now, self.leases.lease, limit, claim.exclude
            )
            claim.ids = ids
            if not ids:
                return []
            rows = session.execute(
                select(
                    EnforcementAction.id,
                    EnforcementAction.request_id,
                    EnforcementAction.account_id,
                    EnforcementAction.action,
                    EnforcementAction.idempotency_key,
                )
                .where(EnforcementAction.id.in_(ids))
                .order_by(EnforcementAction.id)
            ).all()
            claimed = []
            for action_id, request_id, account_id, action, key in rows:
                info = self._request_info(session, request_id)
                claimed.append(
                    _Claimed(
                        action_id,
                        request_id,
                        ActionCall(
                            account_id=account_id,
                            action=action,
                            idempotency_key=key,
                            reason_code=info["reason_code"],
                            note=info["note"],
                            request_ref=request_ref(request_id),
                            actor=info["requester"],
                            approved_by=info["approved_by"],
                        ),
                    )
                )
        return claimed

    def _request_info(self, session: Session, request_id: int) -> dict[str, Any]:
        """What every call of a request carries; fixed once approved, so cached."""
        with self._lock:
            cached = self._requests.get(request_id)
        if cached is not None:
            return cached
        request = session.get(EnforcementRequest, request_id)
        assert request is not None
        approvers = approvers_of(session, request_id)
        info = {
            "reason_code": request.reason_code,
            "note": request.note,
            "requester": request.requester,
            "approved_by": approvers,
            "account_count": request.account_count,
        }
        with self._lock:
            self._requests[request_id] = info
        return info

    def _release(self, claimed: list[_Claimed]) -> None:
        ids = [c.action_id for c in claimed]
        with self.db.transaction() as session:
            ledger.release(session, ids, self.worker_id, self.clock.now())
        self.leases.forget(ids)

    def _flush(self, results: list[_Result]) -> None:
        """Record outcomes (ledger, timeline, audit) in one unit of work, then report them."""
        if not results:
            return
        self._record_all(results)
        self.leases.forget([r.claimed.action_id for r in results])

    def _record_all(self, results: list[_Result]) -> None:
        now = self.clock.now()
        outcomes = {r.claimed.action_id: r.outcome for r in results if r.outcome is not None}
        if not outcomes:
            return
        recorded: dict[int, list[ActionView]] = {}
        completed: list[int] = []
        with self.db.transaction() as session:
            rows = session.scalars(
                select(EnforcementAction)
                .where(EnforcementAction.id.in_(list(outcomes)))
                .order_by(EnforcementAction.id)
            ).all()
            requests = {
                request.id: request
                for request in session.scalars(
                    select(EnforcementRequest).where(
                        EnforcementRequest.id.in_({row.request_id for row in rows})
                    )
                )
            }
            entries: list[dict[str, Any]] = []
            for row in rows:
                entry = self._record(session, now, row, outcomes[row.id], requests[row.request_id])
                if entry is not None:
                    entries.append(entry)
                    recorded.setdefault(row.request_id, []).append(_action_view(row))
            audit.record_many(session, entries)
            for request_id in recorded:
                if _complete_if_finished(session, now, request_id, "vigil"):
                    completed.append(request_id)
            if self.jobs is not None:
                # What people must read (per-account results, the summary) is queued with the
                # results themselves: a Slack outage delays it, a restart does not lose it. A
                # small request's summary is queued by its results job, so it reads after them.
                for request_id, views in recorded.items():
                    request = requests[request_id]
                    summary_key = f"enforcement-summary:{request_id}:{request.round}"
                    if request.account_count <= PER_ACCOUNT_REPORTS_UP_TO:
                        payload = {
                            "request_id": request_id,
                            "accounts": [v.account_id for v in views],
                            "then_summary": summary_key if request_id in completed else None,
                        }
                        enqueue(session, self.clock, JOB_RESULTS, payload)
                    elif request_id in completed:
                        enqueue(session, self.clock, JOB_SUMMARY, {"request_id": request_id}, key=summary_key)
        if self.jobs is not None and (recorded or completed):
            self.jobs.wake()
        for request_id, views in recorded.items():
            self._report(request_id, views, request_id in completed)

    def _record(
        self,
        session: Session,
        now: datetime,
        row: EnforcementAction,
        outcome: Outcome,
        request: EnforcementRequest,
    ) -> dict[str, Any] | None:
        """Apply one outcome to its row; the audit entry to append when it is a result."""
        if row.locked_by != self.worker_id or row.status != RUNNING:
            return None  # our lease ran out and another worker took it: it records the result
        row.result_code = outcome.status
        row.error = outcome.detail or None
        row.updated_at = now
        row.lease_until = None
        row.locked_by = None
        if outcome.kind == "transient":
            first = row.first_attempt_at or now
            if now - first < self.options.retry.give_up_after:
                row.status = PENDING
                row.next_attempt_at = now + self.options.retry.delay(row.attempts, outcome.retry_after)
                return None  # not a result yet: it will be tried again, with the same key
            row.status = RETRYABLE
        else:
            row.status = {"done": DONE, "already": ALREADY, "permanent": FAILED}[outcome.kind]
            row.next_attempt_at = None
        row.finished_at = now
        data = {
            "account_id": row.account_id,
            "action": row.action,
            "outcome": row.status,
            "http_status": outcome.status,
            "detail": outcome.detail,
            "attempts": row.attempts,
            "idempotency_key": row.idempotency_key,
        }
        _timeline(session, request, now, "vigil", f"action.{row.status}", data, account_id=row.account_id)
        ENFORCEMENT_ACTIONS.labels(action=row.action, outcome=row.status).inc()
        return {
            "at": now,
            "actor": "vigil",
            "action": "enforcement.action",
            "subject_type": "account",
            "subject_id": row.account_id,
            "data": {"request": request.ref, **data},
        }

    def _report(self, request_id: int, results: list[ActionView], completed: bool) -> None:
        with self._lock:
            bulk = self._requests.get(request_id, {}).get("account_count", 0) > PER_ACCOUNT_REPORTS_UP_TO
        progress_due = False
        if bulk and not completed:
            now = self.options.monotonic()
            with self._lock:
                last = self._last_progress.get(request_id)
                progress_due = last is None or now - last >= self.options.progress_every
                if progress_due:
                    self._last_progress[request_id] = now
        if bulk and not completed and not progress_due:
            return  # reading the request's counts costs more than this batch is worth
        view = self.view(request_id)
        if view is None or view.card is None:
            return
        if self.jobs is not None:  # results and summary are jobs; only progress is live
            if view.bulk and progress_due:
                self._progress(view)
            return
        if not view.bulk:
            self._safely(self.notifier.account_results, view, results)
        elif progress_due:
            self._progress(view)
        if completed:
            self._finish(view)

    def _finish(self, view: RequestView) -> None:
        if view.bulk:
            self._progress(view)
        with self.db.read() as session:
            failures = actions_of(session, view.id, [FAILED, RETRYABLE])
        self._safely(self.notifier.summary, Summary(view, failures))
        self._safely(self.notifier.update_card, view)

    def _results_job(self, payload: dict[str, Any]) -> None:
        view = self._job_view(payload)
        with self.db.read() as session:
            rows = session.scalars(
                select(EnforcementAction)
                .where(
                    EnforcementAction.request_id == view.id,
                    EnforcementAction.account_id.in_(list(payload["accounts"])),
                )
                .order_by(EnforcementAction.id)
            ).all()
            results = [_action_view(row) for row in rows]
        self.notifier.account_results(view, results)
        if payload.get("then_summary"):
            with self.db.transaction() as session:
                enqueue(
                    session, self.clock, JOB_SUMMARY, {"request_id": view.id}, key=payload["then_summary"]
                )
            if self.jobs is not None:
                self.jobs.wake()

    def _summary_job(self, payload: dict[str, Any]) -> None:
        view = self._job_view(payload)
        if view.bulk:
            self._progress(view)
        with self.db.read() as session:
            failures = actions_of(session, view.id, [FAILED, RETRYABLE])
        self.notifier.summary(Summary(view, failures))  # raises: the job retries it
        self._safely(self.notifier.update_card, view)

    def _job_view(self, payload: dict[str, Any]) -> RequestView:
        view = self.view(int(payload["request_id"]))
        if view is None:
            raise PermanentJobError(f"{request_ref(int(payload['request_id']))} does not exist")
        if view.card is None:
            raise RuntimeError(f"{view.ref} has no card yet; retry after it is posted")
        return view

    def _progress(self, view: RequestView) -> None:
        try:
            ts = self.notifier.progress(view)
        except Exception:
            log.exception("progress message failed", extra={"request": view.ref})
            return
        if ts and ts != view.progress_ts:
            with self.db.transaction() as session:
                session.execute(
                    update(EnforcementRequest)
                    .where(EnforcementRequest.id == view.id, EnforcementRequest.progress_ts.is_(None))
                    .values(progress_ts=ts)
                )

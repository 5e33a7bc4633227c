"""Every question workflows/enforcement asks the ledger, and every change it makes to it.

Each function takes the caller's Session (the caller owns the unit of work) and is named by
what it asks or does. Decisions are single conditional UPDATEs (``approve_if_pending``,
``reject_if_pending``, ``expire_pending``, ``complete_if_finished``): a race either lands
first or finds the row already changed, never both. Lists of accounts are read and written
in chunks, so a 10,000-account request stays under every driver's parameter limit.

Over 500 lines on purpose: it is one role (the ledger's SQL) for one concept, in sections
(the worker's queue, writing, deciding, manual mode and retries, reading); splitting it by
reader would scatter the conditional UPDATEs that have to be read side by side.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from store import leases
from store.base import insert_ignore
from store.enforcement.models import (
    APPROVED,
    AWAITING_APPROVAL,
    CANCELLED,
    COMPLETED,
    DONE,
    EXECUTED,
    EXPIRED,
    MANUAL,
    OPEN_ACTION,
    OUTSTANDING,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RETRYABLE,
    EnforcementAction,
    EnforcementApproval,
    EnforcementEvent,
    EnforcementRequest,
)

_CHUNK = 500  # accounts per IN (…) list
_INSERT_CHUNK = 1000  # action rows per INSERT


def _chunks(items: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the worker's queue (the claim itself is store/leases.py, shared with the jobs) ---------------
def _pending_due(now: datetime) -> ColumnElement[bool]:
    """Pending actions whose time (backoff, by the business clock) has come."""
    return and_(
        EnforcementAction.status == PENDING,
        or_(EnforcementAction.next_attempt_at.is_(None), EnforcementAction.next_attempt_at <= now),
    )


def due_actions_exist(
    session: Session, now: datetime, lease_now: datetime, exclude: Collection[int] = ()
) -> bool:
    query = select(EnforcementAction.id).where(
        leases.claimable(EnforcementAction, _pending_due(now), lease_now)
    )
    if exclude:
        query = query.where(EnforcementAction.id.not_in(list(exclude)))
    return session.scalar(query.limit(1)) is not None


def claim_due_actions(
    session: Session,
    worker_id: str,
    now: datetime,
    lease_now: datetime,
    lease: timedelta,
    limit: int,
    exclude: Collection[int] = (),
) -> list[int]:
    """Lease up to ``limit`` due actions, a dead worker's included (``lease_now`` is the lease
    clock's wall time, ``now`` the business clock's). Returns their ids."""
    return leases.claim(
        session,
        EnforcementAction,
        due=_pending_due(now),
        worker_id=worker_id,
        lease_now=lease_now,
        lease=lease,
        limit=limit,
        order_by=(EnforcementAction.id,),
        exclude=exclude,
        values={
            "attempts": EnforcementAction.attempts + 1,
            "first_attempt_at": func.coalesce(EnforcementAction.first_attempt_at, now),
            "updated_at": now,
        },
    )


def release(session: Session, ids: Collection[int], worker_id: str, now: datetime) -> int:
    """Give back leased rows this worker never started (a graceful stop)."""
    return leases.release(
        session,
        EnforcementAction,
        worker_id,
        ids,
        {"attempts": EnforcementAction.attempts - 1, "updated_at": now},
    )


class ClaimedAction(NamedTuple):
    id: int
    request_id: int
    account_id: str
    action: str
    idempotency_key: str


def claimed_actions(session: Session, ids: Collection[int]) -> list[ClaimedAction]:
    """What the calls of just-claimed actions need, in id order."""
    rows = session.execute(
        select(
            EnforcementAction.id,
            EnforcementAction.request_id,
            EnforcementAction.account_id,
            EnforcementAction.action,
            EnforcementAction.idempotency_key,
        )
        .where(EnforcementAction.id.in_(list(ids)))
        .order_by(EnforcementAction.id)
    )
    return [ClaimedAction(*row) for row in rows]


def record_attempt(
    row: EnforcementAction,
    now: datetime,
    *,
    status: str,
    result_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
    finished: bool,
) -> None:
    """One call's outcome on its (claimed, loaded) row; the lease is given up with it."""
    row.result_code = result_code
    row.error = error
    row.updated_at = now
    row.lease_until = None
    row.locked_by = None
    row.status = status
    row.next_attempt_at = next_attempt_at
    if finished:
        row.finished_at = now


# --- writing a request ------------------------------------------------------------------------------
def add_request(session: Session, **values: Any) -> EnforcementRequest:
    """Insert a request and return it with its id."""
    request = EnforcementRequest(**values)
    session.add(request)
    session.flush()
    return request


def add_actions(session: Session, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(insert(EnforcementAction), rows[start : start + _INSERT_CHUNK])


def add_event(
    session: Session,
    request_id: int,
    at: datetime,
    actor: str,
    kind: str,
    data: dict[str, Any],
    account_id: str | None = None,
) -> None:
    session.add(
        EnforcementEvent(
            request_id=request_id, account_id=account_id, at=at, actor=actor, kind=kind, data=data
        )
    )


def set_card(session: Session, request_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id)
        .values(card_channel=channel, card_ts=ts)
    )


def set_precheck(session: Session, request_id: int, result: dict[str, Any]) -> None:
    session.execute(
        update(EnforcementRequest).where(EnforcementRequest.id == request_id).values(precheck=result)
    )


def set_progress_ts(session: Session, request_id: int, ts: str) -> None:
    """The progress message's ts, stored once (a later post never replaces the first)."""
    session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id, EnforcementRequest.progress_ts.is_(None))
        .values(progress_ts=ts)
    )


# --- deciding ---------------------------------------------------------------------------------------
def approve_if_pending(
    session: Session, request_id: int, approver: str, now: datetime, created_after: datetime | None
) -> tuple[int, int] | None:
    """Count one approval, in one statement that only a pending request created after
    ``created_after`` (None: any age), someone other than the requester, and a person who has
    not approved it yet can pass. Returns (approvals, approvals needed), or None if refused."""
    already = exists().where(
        EnforcementApproval.request_id == request_id,
        EnforcementApproval.approver == approver,
        EnforcementApproval.decision == "approve",
    )
    fresh = EnforcementRequest.created_at > created_after if created_after is not None else true()
    row = session.execute(
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
    return None if row is None else (int(row[0]), int(row[1]))


def add_approval(
    session: Session, request_id: int, approver: str, decision: str, at: datetime, reason: str | None = None
) -> bool:
    """One row per person and decision; False when it was there already (a double click)."""
    values: dict[str, Any] = {"request_id": request_id, "approver": approver, "decision": decision, "at": at}
    if reason is not None:
        values["reason"] = reason
    return insert_ignore(
        session,
        EnforcementApproval.__table__,  # type: ignore[arg-type]
        values,
        ["request_id", "approver", "decision"],
    )


def mark_approved(session: Session, request_id: int, approver: str, now: datetime, manual: bool) -> None:
    """The approval that completes the request (its row is locked by approve_if_pending)."""
    session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id, EnforcementRequest.status == PENDING_APPROVAL)
        .values(status=APPROVED, decided_by=approver, decided_at=now, manual=manual)
        .execution_options(synchronize_session=False)
    )


def release_for_execution(session: Session, request_id: int, manual: bool, now: datetime) -> int:
    """An approved request's actions: queued for the worker, or handed to Engineering."""
    result = session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == AWAITING_APPROVAL)
        .values(status=MANUAL if manual else PENDING, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reject_if_pending(session: Session, request_id: int, approver: str, reason: str, now: datetime) -> bool:
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
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_awaiting(session: Session, request_id: int, now: datetime) -> int:
    """Cancel the actions still awaiting approval (rejected or expired: they never execute)."""
    result = session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == AWAITING_APPROVAL)
        .values(status=CANCELLED, updated_at=now, finished_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def expire_pending(
    session: Session, created_before: datetime, now: datetime, request_id: int | None = None
) -> list[int]:
    """Expire pending requests created at or before ``created_before`` (or just ``request_id``
    among them), in one conditional UPDATE; returns their ids, sorted."""
    stmt = update(EnforcementRequest).where(
        EnforcementRequest.status == PENDING_APPROVAL, EnforcementRequest.created_at <= created_before
    )
    if request_id is not None:
        stmt = stmt.where(EnforcementRequest.id == request_id)
    expired = session.scalars(
        stmt.values(status=EXPIRED, updated_at=now)
        .returning(EnforcementRequest.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(expired)


def complete_if_finished(session: Session, request_id: int, now: datetime) -> bool:
    """Close an approved request with nothing outstanding. Exactly one caller wins."""
    outstanding = exists().where(
        EnforcementAction.request_id == request_id, EnforcementAction.status.in_(OUTSTANDING)
    )
    result = session.execute(
        update(EnforcementRequest)
        .where(EnforcementRequest.id == request_id, EnforcementRequest.status == APPROVED, ~outstanding)
        .values(status=COMPLETED, completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- manual mode and retries --------------------------------------------------------------------------
def manual_accounts(session: Session, request_id: int) -> list[str]:
    """Accounts of the request awaiting manual execution."""
    return list(
        session.scalars(
            select(EnforcementAction.account_id).where(
                EnforcementAction.request_id == request_id, EnforcementAction.status == MANUAL
            )
        )
    )


def record_manual_done(session: Session, request_id: int, engineer: str, now: datetime) -> int:
    result = session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == MANUAL)
        .values(status=DONE, executed_by=engineer, finished_at=now, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def requests_with_retryable(session: Session, request_id: int | None = None) -> list[int]:
    """Requests (all, or just ``request_id``) with ``failed (retryable)`` actions."""
    query = select(EnforcementAction.request_id).where(EnforcementAction.status == RETRYABLE)
    if request_id is not None:
        query = query.where(EnforcementAction.request_id == request_id)
    return list(session.scalars(query.group_by(EnforcementAction.request_id)))


def requeue_retryable(session: Session, request_id: int, now: datetime) -> int:
    """Put the request's ``failed (retryable)`` actions back in the queue, same keys.

    An account asked for again since (a newer open request for the same action) is that
    request's now: reopening this one would break "one open action per account and action".
    """
    other = aliased(EnforcementAction)
    taken = exists().where(
        other.account_id == EnforcementAction.account_id,
        other.action == EnforcementAction.action,
        other.status.in_(OPEN_ACTION),
        other.id != EnforcementAction.id,
    )
    result = session.execute(
        update(EnforcementAction)
        .where(EnforcementAction.request_id == request_id, EnforcementAction.status == RETRYABLE, ~taken)
        .values(status=PENDING, first_attempt_at=None, next_attempt_at=None, finished_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reopen_for_retry(session: Session, request_id: int, now: datetime) -> EnforcementRequest:
    """The request runs another round (its failed actions were queued again)."""
    request = session.get(EnforcementRequest, request_id)
    assert request is not None
    request.status = APPROVED
    request.round += 1
    request.completed_at = None
    request.updated_at = now
    return request


# --- reading ----------------------------------------------------------------------------------------
def get_request(session: Session, request_id: int, *, fresh: bool = False) -> EnforcementRequest | None:
    """The request; ``fresh`` re-reads it (after a conditional UPDATE the session did not see)."""
    request = session.get(EnforcementRequest, request_id)
    if request is not None and fresh:
        session.refresh(request)
    return request


def requests_by_id(session: Session, ids: Collection[int]) -> dict[int, EnforcementRequest]:
    rows = session.scalars(select(EnforcementRequest).where(EnforcementRequest.id.in_(list(ids))))
    return {request.id: request for request in rows}


def latest_request_ids(session: Session, status: str | None = None, limit: int = 50) -> list[int]:
    """Newest first."""
    query = select(EnforcementRequest.id).order_by(EnforcementRequest.id.desc()).limit(limit)
    if status:
        query = query.where(EnforcementRequest.status == status)
    return list(session.scalars(query))


def approvers_of(session: Session, request_id: int) -> list[str]:
    return list(
        session.scalars(
            select(EnforcementApproval.approver)
            .where(EnforcementApproval.request_id == request_id, EnforcementApproval.decision == "approve")
            .order_by(EnforcementApproval.id)
        )
    )


def status_counts(session: Session, request_id: int) -> dict[str, int]:
    rows = session.execute(
        select(EnforcementAction.status, func.count())
        .where(EnforcementAction.request_id == request_id)
        .group_by(EnforcementAction.status)
    )
    return {status: int(count) for status, count in rows}


def account_sample(session: Session, request_id: int, limit: int) -> list[str]:
    """The request's first accounts, in the order they were asked."""
    return list(
        session.scalars(
            select(EnforcementAction.account_id)
            .where(EnforcementAction.request_id == request_id)
            .order_by(EnforcementAction.id)
            .limit(limit)
        )
    )


def accounts_of(session: Session, request_id: int) -> list[str]:
    """All of the request's accounts, in the order they were asked."""
    return list(
        session.scalars(
            select(EnforcementAction.account_id)
            .where(EnforcementAction.request_id == request_id)
            .order_by(EnforcementAction.id)
        )
    )


def actions_of(
    session: Session, request_id: int, statuses: Iterable[str] | None = None
) -> list[EnforcementAction]:
    query = select(EnforcementAction).where(EnforcementAction.request_id == request_id)
    if statuses is not None:
        query = query.where(EnforcementAction.status.in_(list(statuses)))
    return list(session.scalars(query.order_by(EnforcementAction.id)))


def actions_for_accounts(session: Session, request_id: int, accounts: list[str]) -> list[EnforcementAction]:
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(EnforcementAction.request_id == request_id, EnforcementAction.account_id.in_(accounts))
            .order_by(EnforcementAction.id)
        )
    )


def actions_by_id(session: Session, ids: Collection[int]) -> list[EnforcementAction]:
    return list(
        session.scalars(
            select(EnforcementAction)
            .where(EnforcementAction.id.in_(list(ids)))
            .order_by(EnforcementAction.id)
        )
    )


class OpenActionRow(NamedTuple):
    account_id: str
    request_id: int
    action: str
    request_status: str
    manual: bool
    card_channel: str | None
    card_ts: str | None


def open_actions_for(session: Session, accounts: list[str], action: str | None = None) -> list[OpenActionRow]:
    """The open actions on these accounts (of ``action`` only, when given), oldest first."""
    found: list[OpenActionRow] = []
    for chunk in _chunks(accounts):
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
            .where(EnforcementAction.account_id.in_(chunk), EnforcementAction.status.in_(OPEN_ACTION))
            .order_by(EnforcementAction.id)
        )
        if action is not None:
            query = query.where(EnforcementAction.action == action)
        found += [
            OpenActionRow(a, r, act, s, bool(m), ch, ts) for a, r, act, s, m, ch, ts in session.execute(query)
        ]
    return found


def latest_executed_suspensions(session: Session, accounts: list[str]) -> dict[str, EnforcementAction]:
    """For each account, the latest executed suspension (what a reinstatement reverses)."""
    found: dict[str, EnforcementAction] = {}
    for chunk in _chunks(accounts):
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


class ConflictRow(NamedTuple):
    request_id: int
    action: str
    status: str
    manual: bool
    accounts: int
    sample: list[str]


def conflicting_requests(session: Session, request_id: int, sample: int = 5) -> list[ConflictRow]:
    """Open requests, other than this one, with an open action on any of its accounts: how
    many of its accounts each touches, and the first ``sample`` of them."""
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
        conflicts.append(ConflictRow(rid, action, status, bool(manual), int(count), accounts))
    return conflicts


def history_of_account(
    session: Session, account_id: str, limit: int = 25
) -> list[tuple[EnforcementAction, EnforcementRequest]]:
    """The account's actions with their requests, newest first."""
    rows = session.execute(
        select(EnforcementAction, EnforcementRequest)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementAction.account_id == account_id)
        .order_by(EnforcementAction.id.desc())
        .limit(limit)
    ).all()
    return [(action, request) for action, request in rows]


def open_requests_for_account(
    session: Session, account_id: str
) -> list[tuple[EnforcementAction, EnforcementRequest]]:
    """The account's open actions (asked for, approved, under way) with their requests, newest first."""
    rows = session.execute(
        select(EnforcementAction, EnforcementRequest)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementAction.account_id == account_id, EnforcementAction.status.in_(OPEN_ACTION))
        .order_by(EnforcementAction.id.desc())
    ).all()
    return [(action, request) for action, request in rows]


def request_of_action(session: Session, action_id: int) -> int | None:
    return session.scalar(select(EnforcementAction.request_id).where(EnforcementAction.id == action_id))


def case_suspension_reversed(session: Session, case_ref: str) -> bool:
    """Whether a suspension asked for in this case was later reversed by an executed reinstatement."""
    reversed_action = (
        select(EnforcementAction.id)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(
            EnforcementRequest.case_ref == case_ref,
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
    return session.scalars(reversed_action).first() is not None

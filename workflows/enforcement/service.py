"""Enforcement's use cases, one unit of work each, and ``Enforcer``, the facade adapters call.

The functions take the caller's Session and change the ledger (store/enforcement) with the
request's timeline event and audit row in the same transaction; a refusal (errors.py)
raises before anything is written, or rolls the unit back. ``Enforcer`` runs each of them
in its own transaction, queues what Slack must be told in it (jobs.py), then notifies, and
owns the executor (executor.py) that runs approved actions in the background.

Why a facade over two parts: the request side (units of work, then a notification) and the
executor (threads, a pool, leases) have nothing in common but the ledger; adapters still
see one ``ctx.enforcer``.

A little over 500 lines on purpose: the facade's methods read best beside the units of work
they run (they are their only callers); apart, each half would need the other to be read.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import enforcement as ledger
from store.db import Database
from store.enforcement import AWAITING_APPROVAL, MANUAL, PENDING_APPROVAL, REJECTED, EnforcementRequest
from workflows.clock import Clock
from workflows.config import EnforcementSettings, format_duration
from workflows.enforcement.errors import Expired, OpenRequestConflict, Refused
from workflows.enforcement.events import audit_request, complete_if_finished, note_event
from workflows.enforcement.executor import EnforcerOptions, Executor
from workflows.enforcement.intake import (
    REINSTATE_CHECKS,
    Checked,
    find_case_ref,
    idempotency_key,
    request_ref,
)
from workflows.enforcement.jobs import EnforcementJobs, queue_announce, queue_card, queue_others, safely
from workflows.enforcement.ports import DecisionHook, EnforcementGateway, EnforcementNotifier, RequestRuleHook
from workflows.enforcement.views import (
    SAMPLE_SIZE,
    Decision,
    RequestView,
    actions_of,
    load_view,
    open_actions_on,
)
from workflows.jobs import JobRunner
from workflows.metrics import (
    ENFORCEMENT_ACTIONS,
    ENFORCEMENT_DECISIONS,
    ENFORCEMENT_REFUSALS,
    ENFORCEMENT_REQUESTS,
)

log = logging.getLogger(__name__)


# --- asking ------------------------------------------------------------------------------------------
def create_request(session: Session, clock: Clock, config: EnforcementSettings, checked: Checked) -> int:
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
    reverses = {}
    if draft.action == "reinstate":
        reverses = ledger.latest_executed_suspensions(session, checked.accounts)
    reversed_requests = {action.request_id for action in reverses.values()}
    request = ledger.add_request(
        session,
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
        # A reinstatement of accounts that one suspension request covered links to it.
        reverses_request_id=reversed_requests.pop() if len(reversed_requests) == 1 else None,
        approvals_needed=2 if len(checked.accounts) > config.second_approval_over else 1,
        approvals_count=0,
        manual=False,
        source=draft.source,
        origin_channel=draft.origin_channel,
        round=1,
        created_at=now,
        updated_at=now,
    )
    ledger.add_actions(
        session,
        [
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
        ],
    )
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
    note_event(session, request, now, draft.requester, "requested", data)
    audit_request(session, now, draft.requester, "enforcement.requested", request, data)
    ENFORCEMENT_REQUESTS.labels(action=draft.action).inc()
    return request.id


# --- deciding ------------------------------------------------------------------------------------
def _request(session: Session, request_id: int) -> EnforcementRequest:
    request = ledger.get_request(session, request_id)
    if request is None:
        raise Refused("not_found", request_ref=request_ref(request_id))
    return request


def _already_decided(request: EnforcementRequest) -> Refused:
    return Refused(
        "already_decided", request_ref=request.ref, status=request.status, decided_by=request.decided_by
    )


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
    request = _request(session, request_id)
    if request.requester == approver:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused("own_request", request_ref=request.ref, step="approve")
    counted = ledger.approve_if_pending(
        session, request_id, approver, now, now - ttl if ttl is not None else None
    )
    if counted is None:
        session.refresh(request)
        if ttl is not None and _is_stale(request, now, ttl):
            ENFORCEMENT_REFUSALS.labels(reason="expired").inc()
            raise Expired(request.ref, ttl)
        ENFORCEMENT_REFUSALS.labels(reason="already_decided").inc()
        raise _already_decided(request)
    if not ledger.add_approval(session, request_id, approver, "approve", now):
        raise Refused("approved_twice", request_ref=request.ref)  # a concurrent double click; rolls back
    count, needed = counted
    final = is_admin or count >= needed
    if final:
        # The row is ours until commit (locked by the UPDATE above; SQLite: BEGIN IMMEDIATE).
        ledger.mark_approved(session, request_id, approver, now, manual)
    session.refresh(request)
    data = {
        "approvals": count,
        "approvals_needed": request.approvals_needed,
        "as_admin": is_admin,
        "final": final,
    }
    note_event(session, request, now, approver, "approved" if final else "approval", data)
    audit_request(
        session, now, approver, "enforcement.approved" if final else "enforcement.approval", request, data
    )
    if final:
        released = ledger.release_for_execution(session, request_id, manual, now)
        ENFORCEMENT_DECISIONS.labels(decision="approved").inc()
        log.info("enforcement request approved", extra={"request": request.ref, "actions": released})
    return Decision(request_id, final, request.status, 0 if final else request.approvals_needed - count)


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
        raise Refused("reason_required")
    request = _request(session, request_id)
    if request.requester == approver:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused("own_request", request_ref=request.ref, step="decide")
    if ttl is not None and _is_stale(request, now, ttl):
        raise Expired(request.ref, ttl)  # it expires: nothing left to reject
    if not ledger.reject_if_pending(session, request_id, approver, reason, now):
        session.refresh(request)
        ENFORCEMENT_REFUSALS.labels(reason="already_decided").inc()
        raise _already_decided(request)
    session.refresh(request)
    ledger.add_approval(session, request_id, approver, "reject", now, reason)
    ledger.cancel_awaiting(session, request_id, now)
    note_event(session, request, now, approver, "rejected", {"reason": reason})
    audit_request(session, now, approver, "enforcement.rejected", request, {"reason": reason})
    ENFORCEMENT_DECISIONS.labels(decision="rejected").inc()
    return Decision(request_id, True, REJECTED, 0)


def check_can_decide(
    session: Session, request_id: int, user: str, *, now: datetime | None = None, ttl: timedelta | None = None
) -> None:
    """The same rules as approve/reject, read-only: to refuse before opening a modal."""
    request = _request(session, request_id)
    if request.requester == user:
        raise Refused("own_request", request_ref=request.ref, step="decide")
    if now is not None and ttl is not None and _is_stale(request, now, ttl):
        raise Expired(request.ref, ttl)
    if request.status != PENDING_APPROVAL:
        raise _already_decided(request)


def expire_requests(
    session: Session, clock: Clock, ttl: timedelta, request_id: int | None = None
) -> list[int]:
    """Expire pending requests older than ``ttl`` (or just ``request_id``); return their ids.

    One conditional UPDATE decides, so an approval racing it either lands first (and the
    request is approved) or finds the request expired. Their actions are cancelled, so
    nothing of them can ever execute.
    """
    now = clock.now()
    expired = ledger.expire_pending(session, now - ttl, now, request_id)
    for rid in expired:
        cancelled = ledger.cancel_awaiting(session, rid, now)
        request = ledger.get_request(session, rid, fresh=True)
        assert request is not None
        data = {
            "ttl": format_duration(ttl),
            "requested_at": request.created_at.isoformat(),
            "cancelled": cancelled,
        }
        note_event(session, request, now, "vigil", "expired", data)
        audit_request(session, now, "vigil", "enforcement.expired", request, data)
        ENFORCEMENT_DECISIONS.labels(decision="expired").inc()
    return expired


# --- manual mode and retries ------------------------------------------------------------------------
def mark_manual_done(
    session: Session, clock: Clock, request_id: int, engineer: str, *, is_engineer: bool
) -> int:
    """Engineering executed the hand-off by hand: record it (audited) and close the request.

    Only an engineer (``roles.engineers``) or an admin records it, and never the requester:
    recording execution is the last step of four-eyes, not a way around it.
    """
    now = clock.now()
    request = _request(session, request_id)
    if request.requester == engineer:
        ENFORCEMENT_REFUSALS.labels(reason="own_request").inc()
        raise Refused("own_request", request_ref=request.ref, step="record")
    if not is_engineer:
        ENFORCEMENT_REFUSALS.labels(reason="not_engineer").inc()
        raise Refused("not_engineer", request_ref=request.ref)
    accounts = ledger.manual_accounts(session, request_id)
    if not accounts:
        raise Refused("nothing_manual", request_ref=request.ref)
    ledger.record_manual_done(session, request_id, engineer, now)
    data = {"accounts": len(accounts), "sample": accounts[:SAMPLE_SIZE]}
    note_event(session, request, now, engineer, "executed_manually", data)
    audit_request(session, now, engineer, "enforcement.manual_done", request, data)
    ENFORCEMENT_ACTIONS.labels(action=request.action, outcome="manual_done").inc(len(accounts))
    complete_if_finished(session, now, request_id, engineer)
    return len(accounts)


def retry_failed(session: Session, clock: Clock, request_id: int | None, actor: str) -> dict[int, int]:
    """Put ``failed (retryable)`` actions back in the queue, with the same idempotency keys.

    Returns {request_id: actions requeued}. Permanent failures (404, 400, 422) stay failed,
    and so do accounts asked for again since (the newer request has them now).
    """
    now = clock.now()
    counts: dict[int, int] = {}
    for rid in ledger.requests_with_retryable(session, request_id):
        n = ledger.requeue_retryable(session, rid, now)
        if not n:
            continue
        counts[rid] = n
        request = ledger.reopen_for_retry(session, rid, now)
        note_event(session, request, now, actor, "retry", {"actions": n})
        audit_request(
            session, now, actor, "enforcement.retry", request, {"actions": n, "round": request.round}
        )
    return counts


# --- the facade ----------------------------------------------------------------------------------------
class Enforcer:
    """The enforcement lifecycle as adapters see it: each method is one unit of work, then
    notifications; approved actions run in the background (``executor``).

    ``gateway`` None is manual mode. ``config.concurrency`` bounds calls in flight in this process.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: EnforcementSettings,
        notifier: EnforcementNotifier,
        gateway: EnforcementGateway | None,
        options: EnforcerOptions | None = None,
        rules: RequestRuleHook | None = None,
        *,
        jobs: JobRunner,
        lease_clock: Clock | None = None,
        decisions: DecisionHook | None = None,
    ) -> None:
        self.db = db
        self.decisions = decisions
        self.clock = clock
        self.config = config
        self.notifier = notifier
        self.gateway = gateway
        self.rules = rules
        self.jobs = jobs
        self.handlers = EnforcementJobs(db, clock, config, notifier, gateway, jobs)
        self.executor = Executor(
            db, clock, config, gateway, jobs, self.handlers.progress, options, lease_clock=lease_clock,
            decisions=decisions,
        )

    @property
    def manual(self) -> bool:
        return self.gateway is None

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
                    request = ledger.get_request(session, request_id)
                    assert request is not None
                    self.rules.apply(session, request)
                if self.decisions is not None:
                    request = ledger.get_request(session, request_id)
                    assert request is not None
                    self.decisions.drafted(session, request, checked.draft.decision_facts)
                queue_announce(session, self.clock, request_id, checked.duplicates)
                # Open requests of the other action on these accounts show this one on their cards.
                queue_others(session, self.clock, request_id, "conflict")
        except IntegrityError:
            with self.db.read() as session:
                clashes = open_actions_on(session, checked.accounts, checked.draft.action)
            if not clashes:
                raise
            ENFORCEMENT_REFUSALS.labels(reason="already_open").inc()
            raise OpenRequestConflict(checked.draft.action, clashes) from None
        self.jobs.wake()
        return request_id

    def expire_due(self, request_id: int | None = None) -> list[int]:
        """The scheduled tick (and an approval that finds its request too old): expire pending
        requests older than ``enforcement.request_ttl`` and queue their cards' update."""
        touched: list[int] = []
        with self.db.transaction() as session:
            expired = expire_requests(session, self.clock, self.config.request_ttl, request_id)
            for rid in expired:
                if self.decisions is not None:
                    self.decisions.withdrawn(session, rid)
                queue_card(session, self.clock, rid, "expired")
                touched += [rid, *queue_others(session, self.clock, rid, "expired")]
        if expired:
            log.info("enforcement requests expired", extra={"requests": [request_ref(r) for r in expired]})
        if touched:
            self.jobs.wake()
        return expired

    def check_can_decide(self, request_id: int, user: str) -> None:
        try:
            with self.db.read() as session:
                check_can_decide(session, request_id, user, now=self.clock.now(), ttl=self.config.request_ttl)
        except Expired:
            self.expire_due(request_id)
            raise

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
                others = queue_others(session, self.clock, request_id, "approved") if decision.final else []
                if decision.final and self.decisions is not None:
                    self.decisions.approved(session, request_id)
        except Expired:
            self.expire_due(request_id)  # on access: the card says so now, not at the next tick
            raise
        if others:
            self.jobs.wake()
        view = self.view(request_id)
        assert view is not None
        safely(self.notifier.update_card, view)
        safely(self.notifier.decision, view, approver, decision.final)
        if decision.final:
            if self.manual:
                with self.db.read() as session:
                    accounts = [a.account_id for a in actions_of(session, request_id, [MANUAL])]
                safely(self.notifier.hand_off, view, accounts)
            else:
                self.executor.wake()
        return decision

    def reject(self, request_id: int, approver: str, reason: str) -> Decision:
        try:
            with self.db.transaction() as session:
                decision = reject(
                    session, self.clock, request_id, approver, reason, ttl=self.config.request_ttl
                )
                others = queue_others(session, self.clock, request_id, "rejected")
                if self.decisions is not None:
                    self.decisions.withdrawn(session, request_id)
        except Expired:
            self.expire_due(request_id)
            raise
        if others:
            self.jobs.wake()
        view = self.view(request_id)
        assert view is not None
        safely(self.notifier.update_card, view)
        safely(self.notifier.decision, view, approver, True)
        return decision

    def mark_manual_done(self, request_id: int, engineer: str, *, is_engineer: bool) -> int:
        with self.db.transaction() as session:
            count = mark_manual_done(session, self.clock, request_id, engineer, is_engineer=is_engineer)
        view = self.view(request_id)
        assert view is not None
        safely(self.notifier.manual_done, view, engineer, count)
        safely(self.notifier.update_card, view)
        return count

    def retry_failed(self, request_id: int | None, actor: str) -> dict[int, int]:
        with self.db.transaction() as session:
            counts = retry_failed(session, self.clock, request_id, actor)
        for rid, count in counts.items():
            view = self.view(rid)
            if view is not None:
                safely(self.notifier.retrying, view, actor, count)
                safely(self.notifier.update_card, view)
        if counts:
            self.executor.wake()
        return counts

    # --- the executor ---------------------------------------------------------------------------
    def wake(self) -> None:
        self.executor.wake()

    def start(self) -> None:
        """Resume whatever is due (a restart picks up where the last process stopped)."""
        self.executor.start()

    def request_stop(self) -> None:
        """Stop claiming and give back the calls not started yet (safe in a signal handler)."""
        self.executor.request_stop()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; finish and record the calls in flight; give back the rest."""
        self.executor.stop(timeout)

    def run_until_idle(self) -> int:
        """Run approved actions in this thread until nothing is due (tests, the CLI)."""
        return self.executor.run_until_idle()

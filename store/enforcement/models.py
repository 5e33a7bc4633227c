"""The enforcement ledger's tables: requests, their approvals, one action row per account,
and the timeline of every change (the queries about them are in queries.py).

Action rows are written when the request is made (status ``awaiting_approval``) so the
idempotency key is fixed before anyone approves; approval flips them to ``pending`` in one
UPDATE and the worker claims due rows under a lease (store/leases.py) that its heartbeat
renews while the call is in flight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, UTCDateTime

# Request statuses.
PENDING_APPROVAL, APPROVED, REJECTED, COMPLETED = "pending_approval", "approved", "rejected", "completed"
EXPIRED = "expired"  # nobody approved it within enforcement.request_ttl
# Action statuses. OUTSTANDING ones keep their request open.
AWAITING_APPROVAL, PENDING, RUNNING = "awaiting_approval", "pending", "running"
DONE, ALREADY, FAILED, RETRYABLE = "done", "already_in_state", "failed", "failed_retryable"
MANUAL, CANCELLED = "awaiting_manual", "cancelled"
OUTSTANDING = (PENDING, RUNNING, MANUAL)
EXECUTED = (DONE, ALREADY)
# An account's action that is still asked for, approved or under way: at most one per account
# and action (the partial unique index below), so two open requests can never race their calls.
OPEN_ACTION = (AWAITING_APPROVAL, *OUTSTANDING)
_OPEN_ACTION_SQL = text("status IN ('awaiting_approval', 'pending', 'running', 'awaiting_manual')")


class EnforcementRequest(Base):
    __tablename__ = "enforcement_requests"
    __table_args__ = (Index("ix_enforcement_requests_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))  # suspend | reinstate
    status: Mapped[str] = mapped_column(String(24))
    requester: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    # "CASE-12" when the evidence names a case; the cases capability links its timeline.
    case_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    account_count: Mapped[int] = mapped_column(Integer)
    duplicates_removed: Mapped[int] = mapped_column(Integer, default=0)
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # A reinstatement of accounts that one suspension request covered links to it.
    reverses_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_requests.id", name="fk_enforcement_requests_reverses")
    )
    approvals_needed: Mapped[int] = mapped_column(Integer)
    approvals_count: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    precheck: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(16))  # slack | cli
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    progress_ts: Mapped[str | None] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer, default=1)  # bumps when failed actions are retried
    # What playbook rules (trigger enforcement.requested) added: hints, and a reason for an extra approval.
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default="[]")
    second_review: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"REQ-{self.id}"


class EnforcementAction(Base):
    __tablename__ = "enforcement_actions"
    __table_args__ = (
        UniqueConstraint("request_id", "account_id"),
        Index("ix_enforcement_actions_due", "status", "next_attempt_at"),
        Index(
            "uq_enforcement_actions_open",
            "account_id",
            "action",
            unique=True,
            sqlite_where=_OPEN_ACTION_SQL,
            postgresql_where=_OPEN_ACTION_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"))
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    # vigil:{request_id}:{account_id}:{action}: the same on every retry and after a restart.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    reverses_action_id: Mapped[int | None] = mapped_column(
        ForeignKey("enforcement_actions.id", name="fk_enforcement_actions_reverses")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(64))
    result_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    executed_by: Mapped[str | None] = mapped_column(String(32))  # the engineer, in manual mode
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EnforcementApproval(Base):
    """One row per person and decision; the unique key is what makes a double click a no-op."""

    __tablename__ = "enforcement_approvals"
    __table_args__ = (UniqueConstraint("request_id", "approver", "decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"))
    approver: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(8))  # approve | reject
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class EnforcementEvent(Base):
    """The timeline of a request and of the accounts it touches."""

    __tablename__ = "enforcement_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enforcement_requests.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)

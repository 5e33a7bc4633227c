"""The ids of enforcement's Slack surfaces (callbacks, actions) and the words for its statuses."""

from __future__ import annotations

from store.enforcement import (
    ALREADY,
    APPROVED,
    AWAITING_APPROVAL,
    CANCELLED,
    COMPLETED,
    DONE,
    EXPIRED,
    FAILED,
    MANUAL,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RETRYABLE,
    RUNNING,
)

REQUEST_CALLBACK = "enforcement_request"
REJECT_CALLBACK = "enforcement_reject"
APPROVE_ACTION = "enforcement_approve"
REJECT_ACTION = "enforcement_reject"
RETRY_ACTION = "enforcement_retry"
MANUAL_DONE_ACTION = "enforcement_manual_done"
VALUE = "value"  # the action_id of every input element in the modal
INPUT_MAX = 3000  # Slack's cap on a plain-text input (and the modal's accounts and evidence)
VERB = {"suspend": "Suspend", "reinstate": "Reinstate"}
PAST = {"suspend": "suspended", "reinstate": "reinstated"}
STATE = {"suspend": "suspended", "reinstate": "active"}
STATUS_LABEL = {
    PENDING_APPROVAL: "waiting for approval",
    APPROVED: "approved, executing",
    REJECTED: "rejected",
    COMPLETED: "completed",
    EXPIRED: "expired",
}


ACTION_LABEL = {
    AWAITING_APPROVAL: "awaiting approval",
    PENDING: "queued",
    RUNNING: "in progress",
    DONE: "done",
    ALREADY: "already in that state",
    FAILED: "failed",
    RETRYABLE: "failed (retryable)",
    MANUAL: "awaiting manual execution",
    CANCELLED: "cancelled",
}

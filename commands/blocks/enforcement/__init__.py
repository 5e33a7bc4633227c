"""Block Kit for enforcement: the request modal (forms), the approval card (card), what goes in
its thread (thread), an account's history (history), refusals worded from their codes
(refusals), and the ids and labels they share (labels). Adapters import from here."""

from __future__ import annotations

from commands.blocks.enforcement.card import card, conflicts_text, outcome_counts
from commands.blocks.enforcement.forms import kept_text, reject_modal, request_modal
from commands.blocks.enforcement.history import history
from commands.blocks.enforcement.labels import (
    ACTION_LABEL,
    APPROVE_ACTION,
    INPUT_MAX,
    MANUAL_DONE_ACTION,
    PAST,
    REJECT_ACTION,
    REJECT_CALLBACK,
    REQUEST_CALLBACK,
    RETRY_ACTION,
    STATE,
    STATUS_LABEL,
    VALUE,
    VERB,
)
from commands.blocks.enforcement.refusals import conflict_text, refusal_text
from commands.blocks.enforcement.thread import (
    HANDOFF_INLINE,
    accounts_csv,
    decision_text,
    failures_csv,
    hand_off,
    manual_done_text,
    progress_text,
    requester_text,
    result_line,
    results_text,
    summary_blocks,
)

__all__ = [
    "ACTION_LABEL",
    "APPROVE_ACTION",
    "HANDOFF_INLINE",
    "INPUT_MAX",
    "MANUAL_DONE_ACTION",
    "PAST",
    "REJECT_ACTION",
    "REJECT_CALLBACK",
    "REQUEST_CALLBACK",
    "RETRY_ACTION",
    "STATE",
    "STATUS_LABEL",
    "VALUE",
    "VERB",
    "accounts_csv",
    "card",
    "conflict_text",
    "conflicts_text",
    "decision_text",
    "failures_csv",
    "hand_off",
    "history",
    "kept_text",
    "manual_done_text",
    "outcome_counts",
    "progress_text",
    "refusal_text",
    "reject_modal",
    "request_modal",
    "requester_text",
    "result_line",
    "results_text",
    "summary_blocks",
]

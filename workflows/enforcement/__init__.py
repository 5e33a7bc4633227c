"""Enforcement: suspend and reinstate accounts, with four-eyes approval and a durable ledger.

A request names accounts, a reason and evidence; it waits for approval (never by the
requester; more than ``enforcement.second_approval_over`` accounts need two approvers or one
admin). Approval is decided once, by a conditional UPDATE. Each account then has one action
row with a stable idempotency key (``vigil:REQ-n:{account}:{action}``) that the executor
claims under a lease and executes through the gateway with bounded concurrency, retrying
transient failures with backoff. A restart resumes from the rows. Without a gateway (manual
mode) approved actions wait for Engineering to execute them.

The rooms: intake.py (ids, files, drafts), service.py (the use cases and the ``Enforcer``
facade), executor.py (the background worker), jobs.py (what Slack is told, as jobs),
views.py (read models), ports.py (gateway, notifier, rules), errors.py (refusals as codes),
events.py (the request's timeline and audit rows). The SQL is in store/enforcement.
Slack-free: Slack renders what the notifier port is given (commands/enforcement.py).
"""

from typing import TYPE_CHECKING

from workflows import lazy

if TYPE_CHECKING:
    from workflows.enforcement.errors import Expired, OpenRequestConflict, Refused
    from workflows.enforcement.executor import EnforcerOptions, Executor, RetryPolicy
    from workflows.enforcement.intake import (
        ACTIONS,
        REINSTATE_CHECKS,
        TARGET_STATE,
        AccountCheck,
        Action,
        Checked,
        Draft,
        check_accounts,
        check_draft,
        find_case_ref,
        idempotency_key,
        parse_ref,
        read_id_file,
        request_ref,
        split_ids,
    )
    from workflows.enforcement.jobs import JOB_ANNOUNCE, JOB_CARD, JOB_PRECHECK, JOB_RESULTS, JOB_SUMMARY
    from workflows.enforcement.ports import (
        ActionCall,
        EnforcementGateway,
        EnforcementNotifier,
        Kind,
        Outcome,
        RequestRuleHook,
    )
    from workflows.enforcement.service import (
        Enforcer,
        approve,
        check_can_decide,
        create_request,
        expire_requests,
        mark_manual_done,
        reject,
        retry_failed,
    )
    from workflows.enforcement.views import (
        PER_ACCOUNT_REPORTS_UP_TO,
        SAMPLE_SIZE,
        ActionView,
        Conflict,
        Decision,
        HistoryEntry,
        OpenAction,
        RequestView,
        ReversedSuspensionLabels,
        Summary,
        account_history,
        actions_of,
        conflicts_of,
        list_requests,
        load_view,
        open_actions_on,
        open_requests_of,
        request_state,
    )

__all__ = [
    "ACTIONS",
    "JOB_ANNOUNCE",
    "JOB_CARD",
    "JOB_PRECHECK",
    "JOB_RESULTS",
    "JOB_SUMMARY",
    "PER_ACCOUNT_REPORTS_UP_TO",
    "REINSTATE_CHECKS",
    "SAMPLE_SIZE",
    "TARGET_STATE",
    "AccountCheck",
    "Action",
    "ActionCall",
    "ActionView",
    "Checked",
    "Conflict",
    "Decision",
    "Draft",
    "EnforcementGateway",
    "EnforcementNotifier",
    "Enforcer",
    "EnforcerOptions",
    "Executor",
    "Expired",
    "HistoryEntry",
    "Kind",
    "OpenAction",
    "OpenRequestConflict",
    "Outcome",
    "Refused",
    "RequestRuleHook",
    "RequestView",
    "RetryPolicy",
    "ReversedSuspensionLabels",
    "Summary",
    "account_history",
    "actions_of",
    "approve",
    "check_accounts",
    "check_can_decide",
    "check_draft",
    "conflicts_of",
    "create_request",
    "expire_requests",
    "find_case_ref",
    "idempotency_key",
    "list_requests",
    "load_view",
    "mark_manual_done",
    "open_actions_on",
    "open_requests_of",
    "parse_ref",
    "read_id_file",
    "reject",
    "request_ref",
    "request_state",
    "retry_failed",
    "split_ids",
]

# Each room loads when one of its names is first used (workflows/lazy.py).
__getattr__, __dir__ = lazy.exports(__name__, __file__)

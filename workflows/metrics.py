"""Prometheus metrics (official client) for the whole process.

Domain counters live here too, so what `/metrics` exposes is documented in one file."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "vigil_http_requests_total", "HTTP requests served, by route and status", ["route", "status"]
)
HANDLER_SECONDS = Histogram(
    "vigil_handler_seconds",
    "Time spent in Slack listeners (after the ack) and background jobs",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter("vigil_errors_total", "Unhandled errors, by where they happened", ["where"])
SLACK_EVENTS_DUPLICATE = Counter(
    "vigil_slack_events_duplicate_total", "Slack deliveries dropped because the event was already taken"
)
ROLE_REFUSALS = Counter("vigil_role_refusals_total", "Requests refused for lack of a role", ["role"])
CASES_OPENED = Counter(
    "vigil_cases_opened_total", "Cases opened, by category and priority", ["category", "priority"]
)
CASES_RESOLVED = Counter("vigil_cases_resolved_total", "Cases resolved, by outcome", ["outcome"])
RULE_HITS = Counter("vigil_rule_hits_total", "Playbook rule matches, by rule and mode", ["rule", "mode"])
RULE_ERRORS = Counter("vigil_rule_errors_total", "Playbook rules that failed on a subject", ["rule"])

# Enforcement (workflows/enforcement/).
ENFORCEMENT_REQUESTS = Counter(
    "vigil_enforcement_requests_total", "Enforcement requests created, by action", ["action"]
)
ENFORCEMENT_DECISIONS = Counter(
    "vigil_enforcement_decisions_total", "Enforcement requests decided, by decision", ["decision"]
)
ENFORCEMENT_REFUSALS = Counter(
    "vigil_enforcement_refusals_total",
    "Approvals or rejections refused (own request, already decided), by reason",
    ["reason"],
)
ENFORCEMENT_ACTIONS = Counter(
    "vigil_enforcement_actions_total",
    "Enforcement action results, by action and outcome (done, already_in_state, failed, …)",
    ["action", "outcome"],
)
ENFORCEMENT_CALL_SECONDS = Histogram(
    "vigil_enforcement_call_seconds",
    "Time per enforcement API call",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Signals, anomalies, investigations.
SIGNALS_INGESTED = Counter(
    "vigil_signals_ingested_total", "Signals stored, by type and source (api, import)", ["type", "source"]
)
SIGNALS_DUPLICATE = Counter(
    "vigil_signals_duplicate_total", "Signals skipped because their client id was already stored"
)
SIGNAL_BATCHES_REJECTED = Counter(
    "vigil_signal_batches_rejected_total", "Signal batches refused, by HTTP status", ["status"]
)
ANOMALIES_DETECTED = Counter("vigil_anomalies_detected_total", "Anomalies stored, by kind", ["kind"])
INVESTIGATIONS_OPENED = Counter("vigil_investigations_opened_total", "Investigations opened")
INVESTIGATIONS_CLOSED = Counter(
    "vigil_investigations_closed_total", "Investigations closed, by outcome", ["outcome"]
)

# Reports (workflows/reports/).
DIGESTS_POSTED = Counter(
    "vigil_digests_posted_total",
    "Scheduled posts made, by digest (weekly, investigations, shift)",
    ["digest"],
)
DIGESTS_FAILED = Counter(
    "vigil_digests_failed_total",
    "Scheduled posts that failed (recorded and retried) or were interrupted, by digest",
    ["digest"],
)

# AI gateway (workflows/ai/).
AI_CALLS = Counter(
    "vigil_ai_calls_total",
    "Calls to the language model, by task and outcome (ok, malformed, timeout, rate_limited, …)",
    ["task", "outcome"],
)
AI_TOKENS = Counter(
    "vigil_ai_tokens_total", "Tokens spent on the language model, by direction", ["direction"]
)
AI_FALLBACKS = Counter(
    "vigil_ai_fallbacks_total", "Answers given by the offline path, by task and reason", ["task", "reason"]
)

"""What a rule's condition sees: the documented context of each trigger (docs/playbooks.md),
its empty defaults, and how each subject (a case, a request, a report, a signal, an
anomaly) becomes one. Pure: no session, no clock.

The shape is checked at load time, so a typo in a field name fails `vigil rules check`,
not a live evaluation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

Trigger = Literal[
    "case.created",
    "case.updated",
    "report.received",
    "signal.ingested",
    "anomaly.detected",
    "enforcement.requested",
]
# The windows every account count comes in (``account.reports_24h``).
WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
ACCOUNT_COUNTS = ("reports", "cases", "signals", "enforcement_actions")

# Each leaf is the field's empty value; "*" marks a free-form map.
_ACCOUNT = {"id": "", **{f"{kind}_{w}": 0 for kind in ACCOUNT_COUNTS for w in WINDOWS}, "suspended": False}
_CASE = {
    "id": "CASE-1",
    "category": "other",
    "priority": "P3",
    "status": "new",
    "source": "channel",
    "text": "",
    "author": "",
    "author_is_bot": False,
    "channel": "",
    "accounts": [""],
    "labels": [""],
    "escalations": 0,
    "outcome": "",
    "age_minutes": 0,
}
SCHEMA: dict[str, dict[str, Any]] = {
    "case.created": {"case": _CASE, "account": _ACCOUNT},
    "case.updated": {"case": _CASE, "account": _ACCOUNT, "change": ""},
    "report.received": {
        "report": {"id": "", "account_id": "", "reporter": "", "reason": "", "text": "", "case_id": ""},
        "account": _ACCOUNT,
    },
    "signal.ingested": {
        "signal": {"id": "", "type": "", "account_id": "", "value": 0.0, "attributes": {"*": ""}},
        "account": _ACCOUNT,
    },
    "anomaly.detected": {
        "anomaly": {
            "id": "",
            "signal_type": "",
            "dimension": "",
            "value": "",
            "kind": "",
            "observed": 0.0,
            "expected": 0.0,
            "score": 0.0,
        },
    },
    "enforcement.requested": {
        "request": {
            "id": "",
            "action": "",
            "reason_code": "",
            "accounts": [""],
            "count": 0,
            "requester": "",
            "note": "",
            "evidence": "",
        },
        "account": _ACCOUNT,
    },
}
# What a rule_hits row calls the subject of each trigger.
SUBJECT_OF = {
    "case.created": "case",
    "case.updated": "case",
    "report.received": "report",
    "signal.ingested": "signal",
    "anomaly.detected": "anomaly",
    "enforcement.requested": "request",
}


def with_defaults(trigger: str, context: dict[str, Any]) -> dict[str, Any]:
    """The full documented context for ``trigger``: missing fields take their empty value,
    so a rule never fails on a subject just because a signal source is not connected."""

    def merge(schema: Any, given: Any) -> Any:
        if isinstance(schema, dict) and "*" not in schema:
            given = given if isinstance(given, dict) else {}
            merged = {k: merge(v, given.get(k)) for k, v in schema.items()}
            merged.update({k: v for k, v in given.items() if k not in schema})
            return merged
        if isinstance(schema, dict):
            return given if isinstance(given, dict) else {}
        if given is None:
            return [] if isinstance(schema, list) else schema
        return given

    return merge(SCHEMA[trigger], context)


def sample(trigger: str) -> dict[str, Any]:
    """The schema as a context (free-form maps empty): a dry run's input at load time."""

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items() if k != "*"}
        return node

    return fill(SCHEMA[trigger])


# --- the subjects, as far as rules read them ----------------------------------------
# Rows and views of other concepts satisfy these by shape, so playbooks name only what
# they read and never import another concept's classes.
class CaseSubject(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def author(self) -> str | None: ...
    @property
    def author_is_bot(self) -> bool: ...
    @property
    def channel(self) -> str: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def escalations(self) -> int: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


class RequestSubject(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def reason_code(self) -> str: ...
    @property
    def account_count(self) -> int: ...
    @property
    def requester(self) -> str: ...
    @property
    def note(self) -> str | None: ...
    @property
    def evidence(self) -> str | None: ...


class ReportSubject(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def account_id(self) -> str: ...
    @property
    def reporter(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...


class SignalSubject(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def attributes(self) -> dict[str, Any] | None: ...


class AnomalySubject(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def signal_type(self) -> str: ...
    @property
    def dimension(self) -> str: ...
    @property
    def dim_value(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def observed(self) -> float: ...
    @property
    def baseline(self) -> float: ...
    @property
    def score(self) -> float: ...
    @property
    def data(self) -> dict[str, Any] | None: ...


# --- building the context of each trigger ----------------------------------------
def case_context(
    case: CaseSubject,
    accounts: list[str],
    account: dict[str, Any],
    now: datetime,
    change: str | None = None,
    as_created: bool = False,
) -> dict[str, Any]:
    """case.created / case.updated. ``as_created`` is the case as it stood when opened (what
    a backtest replays): new, unlabelled, never escalated."""
    context: dict[str, Any] = {
        "case": {
            "id": case.ref,
            "category": case.category,
            "priority": case.priority,
            "status": "new" if as_created else case.status,
            "source": case.source,
            "text": case.text,
            "author": case.author or "",
            "author_is_bot": bool(case.author_is_bot),
            "channel": case.channel,
            "accounts": accounts,
            "labels": [] if as_created else list(case.labels or []),
            "escalations": 0 if as_created else case.escalations,
            "outcome": "" if as_created else (case.outcome or ""),
            "age_minutes": 0 if as_created else int((now - case.created_at).total_seconds() // 60),
        },
        "account": account,
    }
    if change is not None:
        context["change"] = change
    return context


def request_context(request: RequestSubject, accounts: list[str], account: dict[str, Any]) -> dict[str, Any]:
    """enforcement.requested; ``account`` is the first account's features."""
    return {
        "request": {
            "id": request.ref,
            "action": request.action,
            "reason_code": request.reason_code,
            "accounts": accounts,
            "count": request.account_count,
            "requester": request.requester,
            "note": request.note or "",
            "evidence": request.evidence or "",
        },
        "account": account,
    }


def report_ref(report: ReportSubject) -> str:
    return f"report:{report.id}"


def report_context(report: ReportSubject, case_id: int | None, account: dict[str, Any]) -> dict[str, Any]:
    """report.received; ``case_id`` is the case the report was linked to, if any."""
    return {
        "report": {
            "id": report_ref(report),
            "account_id": report.account_id,
            "reporter": report.reporter or "",
            "reason": report.reason or "",
            "text": report.text or "",
            "case_id": f"CASE-{case_id}" if case_id else "",
        },
        "account": account,
    }


def signal_ref(signal: SignalSubject) -> str:
    return f"signal:{signal.id}"


def signal_context(signal: SignalSubject, account: dict[str, Any]) -> dict[str, Any]:
    """signal.ingested."""
    return {
        "signal": {
            "id": signal_ref(signal),
            "type": signal.type,
            "account_id": signal.account_id,
            "value": float(signal.value or 0.0),
            "attributes": dict(signal.attributes or {}),
        },
        "account": account,
    }


def anomaly_ref(anomaly: AnomalySubject) -> str:
    return f"anomaly:{anomaly.id}"


def anomaly_context(anomaly: AnomalySubject) -> dict[str, Any]:
    """anomaly.detected. Conditions cannot read ``account`` here (an anomaly is about a
    series, not an account); it carries the top contributor so a hit and an
    open_investigation action know whom the anomaly is mostly about."""
    top = [a.get("account_id") for a in (anomaly.data or {}).get("top_accounts", []) if isinstance(a, dict)]
    return {
        "anomaly": {
            "id": anomaly_ref(anomaly),
            "signal_type": anomaly.signal_type,
            "dimension": anomaly.dimension,
            "value": anomaly.dim_value,
            "kind": anomaly.kind,
            "observed": float(anomaly.observed),
            "expected": float(anomaly.baseline),
            "score": float(anomaly.score),
        },
        "account": {"id": top[0] if top and top[0] else ""},
    }


def accounts_in(context: dict[str, Any]) -> list[str]:
    """The accounts a subject is about, the first one first (open_investigation's targets)."""
    for key in ("case", "request"):
        if key in context:
            return list(context[key].get("accounts") or [])
    for key in ("report", "signal"):
        if key in context:
            return [context[key].get("account_id", "")]
    return [context.get("account", {}).get("id", "")]

"""Exports for spreadsheets: cases, enforcement actions and weekly SLA figures as rows.

Streamed: rows go to the writer as the store yields them, so a year of cases never sits in
memory. Times are ISO 8601 in the config's timezone, durations in minutes with one decimal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from store import reports as store
from store.cases import Case
from store.enforcement import EnforcementAction, EnforcementRequest
from workflows.periods import local_date, week_of
from workflows.reports.build import sla_between
from workflows.reports.views import SlaLine

EXPORT_TABLES = ("cases", "actions", "sla")

CASE_HEADER = [
    "case", "created_at", "category", "priority", "source", "status", "outcome", "claimed_by",
    "claimed_at", "resolved_by", "resolved_at", "sla_due_at", "sla", "minutes_to_claim",
    "minutes_to_resolve",
]  # fmt: skip
ACTION_HEADER = [
    "request", "action", "account_id", "status", "requester", "reason_code", "requested_at",
    "finished_at", "attempts", "http_status", "reverses_request", "case",
]  # fmt: skip
SLA_HEADER = [
    "week", "priority", "due", "met", "attainment", "claimed", "median_minutes_to_claim",
    "p90_minutes_to_claim", "resolved", "median_minutes_to_resolve", "p90_minutes_to_resolve",
]  # fmt: skip


def export_rows(
    session: Session, table: str, since: datetime, until: datetime, tz: ZoneInfo
) -> Iterator[list[Any]]:
    """Header then rows of ``table`` (one of EXPORT_TABLES) for [since, until)."""
    if table == "cases":
        yield CASE_HEADER
        for case in store.cases_created_between(session, since, until):
            yield case_row(case, until, tz)
    elif table == "actions":
        yield ACTION_HEADER
        for action, request in store.actions_requested_between(session, since, until):
            yield action_row(action, request, tz)
    elif table == "sla":
        yield SLA_HEADER
        week = week_of(local_date(since, tz), tz, until)
        while week.start < until:
            for line in sla_between(session, week.start, min(week.end, until)):
                yield sla_row(week.name, line)
            week = week_of(week.last_day + timedelta(days=1), tz, until)
    else:
        raise ValueError(f"unknown table {table!r}; one of {', '.join(EXPORT_TABLES)}")


def case_row(case: Case, until: datetime, tz: ZoneInfo) -> list[Any]:
    """A case as the export reads it; its SLA is met or missed once resolved, else breached
    if it fell due before the end of the export, else still open."""
    if case.resolved_at is not None:
        sla = "met" if case.resolved_at <= case.sla_due_at else "missed"
    else:
        sla = "breached" if case.sla_due_at <= until else "open"
    return [
        case.ref, _local(case.created_at, tz), case.category, case.priority, case.source, case.status,
        case.outcome or "", case.claimed_by or "", _local(case.claimed_at, tz), case.resolved_by or "",
        _local(case.resolved_at, tz), _local(case.sla_due_at, tz), sla,
        _since(case.claimed_at, case.created_at), _since(case.resolved_at, case.created_at),
    ]  # fmt: skip


def action_row(action: EnforcementAction, request: EnforcementRequest, tz: ZoneInfo) -> list[Any]:
    return [
        request.ref, action.action, action.account_id, action.status, request.requester,
        request.reason_code, _local(request.created_at, tz), _local(action.finished_at, tz), action.attempts,
        action.result_code or "",
        f"REQ-{request.reverses_request_id}" if request.reverses_request_id else "",
        request.case_ref or "",
    ]  # fmt: skip


def sla_row(week: str, line: SlaLine) -> list[Any]:
    return [
        week, line.priority, line.due, line.met,
        "" if line.attainment is None else f"{line.attainment:.4f}",
        line.claim.count, _minutes(line.claim.p50), _minutes(line.claim.p90),
        line.resolve.count, _minutes(line.resolve.p50), _minutes(line.resolve.p90),
    ]  # fmt: skip


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).isoformat(timespec="seconds") if at else ""


def _since(later: datetime | None, earlier: datetime) -> str:
    return f"{(later - earlier).total_seconds() / 60:.1f}" if later else ""


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"

"""A T&S history written straight into the store, at exact instants, for report figures
whose right answers are known by hand; and a Reports service over it without Slack."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.charts import MatplotlibChartRenderer
from store.cases import Case
from store.db import Database
from store.enforcement import EnforcementAction, EnforcementRequest
from store.playbooks import RuleHit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner
from workflows.reports import Reports, ReportSources

_ids = itertools.count(1)


def reports_over(
    db: Database, clock: Clock, config: VigilConfig, sources: ReportSources | None = None
) -> Reports:
    """The Reports service as the runtime wires it, with a job runner nobody starts: what it
    queues stays in the jobs table."""
    return Reports(db, clock, config, sources, jobs=JobRunner(db, clock), renderer=MatplotlibChartRenderer())


def add_case(
    session: Session,
    config: VigilConfig,
    created: datetime,
    *,
    category: str = "other",
    priority: str = "P3",
    source: str = "channel",
    claimed_after: timedelta | None = None,
    resolved_after: timedelta | None = None,
    claimed_by: str = "U0ANA0001",
) -> Case:
    n = next(_ids)
    claimed_at = created + claimed_after if claimed_after is not None else None
    resolved_at = created + resolved_after if resolved_after is not None else None
    status = "resolved" if resolved_at else "claimed" if claimed_at else "new"
    case = Case(
        channel="C0ESC0001",
        ts=f"1700{n:06d}.000100",
        source=source,
        author="U0CX00001",
        author_is_bot=False,
        text=f"history {n}",
        category=category,
        priority=priority,
        status=status,
        outcome="actioned" if resolved_at else None,
        escalations=0,
        created_at=created,
        updated_at=resolved_at or claimed_at or created,
        sla_due_at=created + config.sla.for_priority(priority),
        claimed_by=claimed_by if claimed_at else None,
        claimed_at=claimed_at,
        resolved_by=claimed_by if resolved_at else None,
        resolved_at=resolved_at,
        source_deleted=False,
        labels=[],
        recommendations=[],
    )
    session.add(case)
    session.flush()
    return case


def add_request(
    session: Session,
    action: str,
    accounts: list[str],
    created: datetime,
    *,
    status: str = "completed",
    results: list[str] | None = None,
    finished: datetime | None = None,
    reverses: dict[str, int] | None = None,
) -> tuple[EnforcementRequest, list[EnforcementAction]]:
    """A decided request and one action per account with the given result statuses."""
    request = EnforcementRequest(
        action=action,
        status=status,
        requester="U0ANA0001",
        reason_code="spam" if action == "suspend" else "other",
        note="",
        evidence="",
        account_count=len(accounts),
        duplicates_removed=0,
        approvals_needed=1,
        approvals_count=0 if status == "rejected" else 1,
        decided_by="U0LEAD001",
        decided_at=created + timedelta(minutes=5),
        manual=False,
        source="slack",
        round=1,
        created_at=created,
        updated_at=created,
    )
    session.add(request)
    session.flush()
    actions = []
    for index, account in enumerate(accounts):
        result = (results or ["done"] * len(accounts))[index]
        row = EnforcementAction(
            request_id=request.id,
            account_id=account,
            action=action,
            idempotency_key=f"vigil:{request.id}:{account}:{action}",
            status=result,
            reverses_action_id=(reverses or {}).get(account),
            attempts=1,
            created_at=created,
            updated_at=finished or created,
            finished_at=None if result in ("cancelled", "awaiting_approval") else (finished or created),
        )
        session.add(row)
        actions.append(row)
    session.flush()
    return request, actions


def add_hits(session: Session, rule_id: str, at: datetime, count: int, mode: str = "live") -> None:
    rows: list[dict[str, Any]] = [
        {
            "rule_id": rule_id,
            "playbook_version": "v1",
            "trigger": "case.created",
            "subject_type": "case",
            "subject_id": f"CASE-{i}",
            "mode": mode,
            "actions": [],
            "why": {},
            "at": at + timedelta(seconds=i),
        }
        for i in range(count)
    ]
    session.execute(RuleHit.__table__.insert(), rows)

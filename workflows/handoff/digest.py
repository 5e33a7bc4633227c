"""The digest's hand-off lines: what Engineering still has open, oldest first, and how many
actions needed manual execution this week (tooling gaps) and how long they waited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import handoff as store
from workflows.coverage.views import median
from workflows.reports.views import HandoffWeek

OPEN_MAX = 5


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 1)


class HandoffDigest:
    """Implements the reports' HandoffStats port."""

    def week(self, session: Session, start: datetime, end: datetime) -> HandoffWeek | None:
        year, week, _ = (start + timedelta(days=3)).isocalendar()  # any instant inside the week
        page = store.page_of(session, f"{year}-W{week:02d}")
        open_rows = [r for r in store.open_by_age(session) if r.created_at < end]
        waits = [
            _hours((done - approved).total_seconds())
            for approved, done in store.manual_executions(session, start, end)
        ]
        waiting = [
            _hours((end - approved).total_seconds())
            for approved in store.manual_waiting(session)
            if approved < end
        ]
        return HandoffWeek(
            open=[
                (r.ref, r.title, r.ticket_key, _hours((end - r.created_at).total_seconds()))
                for r in open_rows[:OPEN_MAX]
            ],
            manual_executed=len(waits),
            manual_median_wait_hours=median(waits),
            manual_max_wait_hours=max(waits) if waits else None,
            manual_waiting=len(waiting),
            manual_oldest_wait_hours=max(waiting) if waiting else None,
            review_url=page.url if page else None,
        )

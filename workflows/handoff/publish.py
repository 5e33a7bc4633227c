"""The weekly review published for Product and Engineering: the investigation review and the
abuse-trend summary of an ISO week as one wiki page, updated in place when re-run for the
same week; the digest links to it."""

from __future__ import annotations

from store import handoff as store
from store.db import Database
from workflows.clock import Clock
from workflows.handoff.ports import Page, ReviewPublisher
from workflows.periods import Period
from workflows.reports import Reports


def page_title(period: Period) -> str:
    return f"Vigil weekly review {period.name}"


class ReviewPages:
    def __init__(self, db: Database, clock: Clock, reports: Reports, publisher: ReviewPublisher) -> None:
        self.db = db
        self.clock = clock
        self.reports = reports
        self.publisher = publisher

    def publish(self, period: Period) -> Page:
        report = self.reports.digest(period)
        page = self.publisher.publish(page_title(period), report, self.reports.charts(report))
        with self.db.transaction() as session:
            store.save_page(session, period.name, page.id, page.url, page.version, self.clock.now())
        return page

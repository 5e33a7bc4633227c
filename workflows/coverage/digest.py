"""The digest's coverage section: this week's confirmed abuse, found by automation vs people,
against the 4 weeks before, the top three weak points and the recommendations. Derived
read-only (the digest never writes findings; `vigil coverage` stores them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from workflows.config import VigilConfig
from workflows.coverage.derive import Derived
from workflows.coverage.recommend import recommend
from workflows.coverage.service import derive_findings
from workflows.coverage.views import CoverageReport, FindingView, build_report
from workflows.reports.views import CoverageWeek

PREVIOUS = timedelta(weeks=4)


def as_view(f: Derived) -> FindingView:
    return FindingView(
        account_id=f.account_id,
        category=f.category,
        confirmed_by=f.confirmed_by,
        confirmed_at=f.confirmed_at,
        source=f.source,
        source_ref=f.source_ref,
        found_at=f.found_at,
        first_signal_ref=f.first_signal_ref,
        first_signal_at=f.first_signal_at,
        delay_hours=round(f.delay.total_seconds() / 3600, 2),
        pattern_ref=f.pattern_ref,
        rule_matched=f.rule_matched,
    )


class CoverageDigest:
    """Implements the reports' CoverageStats port."""

    def __init__(self, config: VigilConfig) -> None:
        self.config = config

    def _report(self, session: Session, start: datetime, end: datetime) -> CoverageReport:
        views = [as_view(f) for f in derive_findings(session, self.config, start, end)]
        return build_report(views, start, end, "category", self.config.coverage.late_after)

    def week(self, session: Session, start: datetime, end: datetime) -> CoverageWeek | None:
        now = self._report(session, start, end)
        before = self._report(session, start - PREVIOUS, start)
        return CoverageWeek(
            confirmed=now.totals.confirmed,
            automation_share=now.totals.automation_share,
            people_share=now.totals.people_share,
            median_delay_hours=now.totals.median_delay_hours,
            previous_confirmed=before.totals.confirmed,
            previous_automation_share=before.totals.automation_share if before.totals.confirmed else None,
            weak_points=[f"{w.key}: {w.why}" for w in now.weak_points[:3]],
            recommendations=[
                (r.text, [(e.ref, e.url) for e in r.evidence]) for r in recommend(session, now, limit=3)
            ],
        )

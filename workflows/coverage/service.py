"""Coverage use cases: derive (and store) how confirmed abuse was first found, and report
on it. Deriving is idempotent: a re-run re-derives each finding in place."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from store import coverage as store
from store.db import Database
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.coverage.compare import Comparison, compare
from workflows.coverage.derive import Confirmed, Derived, Detection, derive, detection_of, with_first_signal
from workflows.coverage.recommend import Recommendation, recommend
from workflows.coverage.views import By, CoverageReport, FindingView, build_report
from workflows.enforcement import ReversedSuspensionLabels
from workflows.playbooks import RuleSet


def derive_findings(session: Session, config: VigilConfig, since: datetime, until: datetime) -> list[Derived]:
    """The findings for abuse confirmed in [since, until), from the store as it is now."""
    settings = config.coverage
    by_account: dict[str, list[Confirmed]] = defaultdict(list)
    for c in store.confirmations(session, since, until):
        by_account[c.account_id].append(Confirmed(c.kind, c.ref, c.at, c.reason_code))
    # An account later reinstated or cleared as a legitimate outlier was not abuse, whatever a
    # case's outcome said: the better-informed verdict wins (as in backtests).
    for account in store.reversed_accounts(session, by_account) | store.cleared_accounts(session, by_account):
        del by_account[account]
    if not by_account:
        return []
    detections: dict[str, list[Detection]] = defaultdict(list)
    rule_matched: dict[str, list[datetime]] = defaultdict(list)
    for clue in store.clues(session, by_account, until, settings.model_score_at_least):
        if clue.kind in ("rule", "rule_any"):
            rule_matched[clue.account_id].append(clue.at)
        detection = detection_of(clue.kind, clue.ref, clue.at, clue.detail)
        if detection is not None:
            detections[clue.account_id].append(detection)
    reason_codes = set(config.enforcement.reason_codes)
    found: list[Derived] = []
    for account, confirmed in sorted(by_account.items()):
        derived, detected_at = derive(
            account, confirmed, detections[account], rule_matched[account], reason_codes
        )
        first = store.first_signal(session, account, detected_at - settings.lookback, detected_at)
        found.append(with_first_signal(derived, first.ref if first else None, first.at if first else None))
    return found


def as_view(row: store.CoverageFinding) -> FindingView:
    return FindingView(
        account_id=row.account_id,
        category=row.category,
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
        source=row.source,
        source_ref=row.source_ref,
        found_at=row.found_at,
        first_signal_ref=row.first_signal_ref,
        first_signal_at=row.first_signal_at,
        delay_hours=round(row.delay_seconds / 3600, 2),
        pattern_ref=row.pattern_ref,
        rule_matched=row.rule_matched,
    )


class Coverage:
    def __init__(self, db: Database, config: VigilConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    def derive(self, since: datetime, until: datetime) -> list[Derived]:
        """Derive and store the findings for abuse confirmed in [since, until)."""
        now = self.clock.now()
        with self.db.transaction() as session:
            found = derive_findings(session, self.config, since, until)
            for f in found:
                store.save_finding(
                    session,
                    {
                        "account_id": f.account_id,
                        "category": f.category,
                        "confirmed_by": f.confirmed_by,
                        "confirmed_at": f.confirmed_at,
                        "source": f.source,
                        "source_ref": f.source_ref,
                        "found_at": f.found_at,
                        "first_signal_ref": f.first_signal_ref,
                        "first_signal_at": f.first_signal_at,
                        "delay_seconds": f.delay.total_seconds(),
                        "pattern_ref": f.pattern_ref,
                        "rule_matched": f.rule_matched,
                        "candidates": f.candidates,
                        "derived_at": now,
                    },
                )
        return found

    def report(self, since: datetime, until: datetime, by: By = "category") -> CoverageReport:
        """Derive the window afresh, then report on what is stored for it."""
        self.derive(since, until)
        with self.db.read() as session:
            views = [as_view(row) for row in store.findings_between(session, since, until)]
        return build_report(views, since, until, by, self.config.coverage.late_after)

    def recommendations(self, report: CoverageReport, limit: int = 3) -> list[Recommendation]:
        with self.db.read() as session:
            return recommend(session, report, limit)

    def compare(self, current: RuleSet, other: RuleSet, since: datetime, until: datetime) -> Comparison:
        """Both folders over the cases opened in [since, until), against that window's coverage."""
        report = self.report(since, until, "category")
        with self.db.read() as session:
            return compare(session, current, other, since, until, report, [ReversedSuspensionLabels()])

    def explain(self, account_id: str) -> list[str]:
        """The stored derivations for one account, as sentences with their candidates."""
        lines: list[str] = []
        with self.db.read() as session:
            for row in store.findings_of(session, account_id):
                view = as_view(row)
                before = view.first_signal_ref or "none before it"
                lines.append(
                    f"{view.account_id} ({view.category}, confirmed by {view.confirmed_by}): first found by "
                    f"{view.source} {view.source_ref} at {view.found_at:%Y-%m-%d %H:%M} UTC, "
                    f"{view.delay_hours:g} h after its first signal ({before})"
                )
                lines += [f"  candidate: {c['source']} {c['ref']} at {c['at']}" for c in row.candidates]
        return lines

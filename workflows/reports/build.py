"""Assembling reports from the store's aggregate figures: the weekly digest, the investigation
review, the shift summary and /vigil report (read-only; every figure is a query in
store/reports, the arithmetic on top of them is pure and lives here)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import decisions as decision_store
from store import reports as store
from store.reports import Percentiles, RuleHitRow, SlaRow
from workflows.cases import CATEGORIES, NUDGE_AT, PRIORITIES
from workflows.config import VigilConfig
from workflows.periods import Period, day_of, week_of
from workflows.reports.ports import ReportSources
from workflows.reports.views import (
    AppealWeek,
    Change,
    DigestChartData,
    DigestReport,
    EnforcementFigures,
    QaAnalystWeek,
    QaDisagreement,
    QaLine,
    QaTopic,
    QaWeek,
    ReviewReport,
    RuleHits,
    RuleShift,
    ShiftReport,
    SlaLine,
    SummaryReport,
    Volume,
    VolumeLine,
)

TREND_WEEKS = 8
REVERSAL_WINDOW = timedelta(days=90)
SHIFT_MIN_HITS = 10  # a rule's weekly hits must move by at least this …
SHIFT_RATIO = 0.5  # … and by half of last week's, to be called a shift
TOP_RULES = 5
TOP_PATTERNS = 5
QA_DISAGREEMENTS = 8  # listed in the review (a Slack section holds about that many); the rest are counted
QA_TOPICS = 5  # calibration topics
BULK_OVER = 10  # accounts: the enforcement card reports per account up to here, as a bulk run above
SOURCES = {"channel": "Escalation channels", "shortcut": "Message shortcut"}


# --- pure arithmetic on the store's rows ----------------------------------------------------------------
def volume_of(counts: Mapping[tuple[str, str], tuple[int, int]]) -> Volume:
    """(category, source) → (now, before) counts as totals by category and by source, the
    busiest first; a line with nothing now or before is left out."""

    def lines(index: int, labels: dict[str, str]) -> list[VolumeLine]:
        now: dict[str, int] = {}
        before: dict[str, int] = {}
        for key, (current, earlier) in counts.items():
            now[key[index]] = now.get(key[index], 0) + current
            before[key[index]] = before.get(key[index], 0) + earlier
        keys = [k for k in now if now[k] or before[k]]
        keys.sort(key=lambda k: (-now[k], -before[k], k))
        return [VolumeLine(k, labels.get(k, k), Change(now[k], before[k])) for k in keys]

    by_category = lines(0, CATEGORIES)
    by_source = lines(1, SOURCES)
    total = Change(
        sum(line.change.current for line in by_category), sum(line.change.previous for line in by_category)
    )
    return Volume(total, by_category, by_source)


def sla_lines(
    due: Mapping[str, SlaRow], claim: Mapping[str, Percentiles], resolve: Mapping[str, Percentiles]
) -> list[SlaLine]:
    """One line per priority (P1…P4, present or not), then "all"."""
    empty = Percentiles(0, None, None)
    none_due = SlaRow(0, 0)
    lines = [
        SlaLine(
            p, due.get(p, none_due).due, due.get(p, none_due).met, claim.get(p, empty), resolve.get(p, empty)
        )
        for p in PRIORITIES
    ]
    lines.append(
        SlaLine(
            "all",
            sum(x.due for x in lines),
            sum(x.met for x in lines),
            claim.get("all", empty),
            resolve.get("all", empty),
        )
    )
    return lines


def rule_hits_of(rows: Iterable[RuleHitRow]) -> RuleHits:
    """The busiest rules this period, and those whose hits moved by SHIFT_MIN_HITS and by
    SHIFT_RATIO of the period before (either way: a rule that went silent is a shift too)."""
    rows = list(rows)
    top = sorted(
        ((r.rule_id, r.live, r.shadow) for r in rows if r.live + r.shadow), key=lambda t: (-t[1] - t[2], t[0])
    )
    shifts = []
    for row in rows:
        current = row.live + row.shadow
        change = abs(current - row.previous)
        if change >= SHIFT_MIN_HITS and change >= SHIFT_RATIO * row.previous:
            shifts.append(RuleShift(row.rule_id, row.previous, current))
    shifts.sort(key=lambda s: (-abs(s.current - s.previous), s.rule_id))
    return RuleHits(top[:TOP_RULES], shifts[:TOP_RULES], sum(t[1] + t[2] for t in top))


def trend_span(period: Period) -> tuple[Period, list[Period]]:
    """The TREND_WEEKS ISO weeks that end with ``period`` (for a month, with the week of its
    first day), as one span of days from the first of them to the period's end, and each week."""
    first = (
        period.shifted_weeks(-(TREND_WEEKS - 1))
        if period.kind == "week"
        else week_of(period.first_day - timedelta(days=7 * (TREND_WEEKS - 1)), period.tz)
    )
    span = Period(
        "week",
        first.name,
        first.first_day,
        7 * TREND_WEEKS,
        period.tz,
        first.start,
        period.end,
        period.full_end,
    )
    return span, [first.shifted_weeks(i) for i in range(TREND_WEEKS)]


# --- sections (one or two queries each) -------------------------------------------------------------------
def volume_between(session: Session, period: Period, previous: Period, category: str | None = None) -> Volume:
    return volume_of(
        store.volume_two(session, (period.start, period.end), (previous.start, previous.end), category)
    )


def sla_between(
    session: Session, start: datetime, end: datetime, category: str | None = None
) -> list[SlaLine]:
    return sla_lines(
        store.sla_by_priority(session, start, end, category),
        store.percentiles_by_priority(session, "claim", start, end, category),
        store.percentiles_by_priority(session, "resolve", start, end, category),
    )


def enforcement_in(session: Session, period: Period) -> EnforcementFigures:
    return EnforcementFigures(
        store.enforcement_between(session, period.start, period.end, BULK_OVER),
        store.reversals_between(session, period.end - REVERSAL_WINDOW, period.end),
    )


def chart_data(session: Session, period: Period) -> DigestChartData:
    """Daily volume by category over the 8 weeks to this period's end, and weekly SLA attainment."""
    span, weeks = trend_span(period)
    days = [span.first_day + timedelta(days=i) for i in range(span.days)]
    volume = store.daily_volume(session, span.day_bounds())
    categories = sorted(
        {cat for _, cat in volume}, key=lambda c: -sum(v for (_, k), v in volume.items() if k == c)
    )
    daily = {cat: [volume.get((i, cat), 0) for i in range(len(days))] for cat in categories}
    trend = store.sla_trend(session, [w.start for w in weeks] + [period.end])
    rows = [trend.get(i, SlaRow(0, 0)) for i in range(TREND_WEEKS)]
    return DigestChartData(
        days=days,
        daily=daily,
        weeks=[w.name for w in weeks],
        sla_attainment=[r.met / r.due if r.due else None for r in rows],
        sla_due=[r.due for r in rows],
    )


# --- reports ----------------------------------------------------------------------------------------------
def build_digest(session: Session, period: Period, now: datetime, sources: ReportSources) -> DigestReport:
    previous = period.previous()
    report = DigestReport(
        period=period,
        previous=previous,
        generated_at=now,
        volume=volume_between(session, period, previous),
        sla=sla_between(session, period.start, period.end),
        backlog=store.backlog_at(session, period.end),
        enforcement=enforcement_in(session, period),
        rules=rule_hits_of(store.rule_hits_between(session, previous.start, period.start, period.end)),
        investigations=sources.investigations.week(session, period.start, period.end),
        anomalies=sources.anomalies.week(session, period.start, period.end),
        patterns=sources.patterns.top(session, period.start, period.end, TOP_PATTERNS),
        charts=chart_data(session, period),
        triage_accuracy=sources.assistant.triage_accuracy(session, period.start, period.end),
        coverage=sources.coverage.week(session, period.start, period.end),
        handoffs=sources.handoffs.week(session, period.start, period.end),
        appeals=appeals_in(session, period),
        qa=qa_in(session, period),
    )
    # Written last: it is grounded in the figures above, and checked back against them.
    return replace(report, narrative=sources.assistant.narrative(report))


def appeals_in(session: Session, period: Period) -> AppealWeek:
    counts = decision_store.appeal_counts(session, period.start, period.end)
    times = decision_store.appeal_decision_times(session, period.start, period.end)
    hours = [(decided - received).total_seconds() / 3600 for received, decided in times]
    return AppealWeek(
        received=counts["received"],
        decided=counts["decided"],
        overturned=counts["overturned"],
        median_hours=round(statistics.median(hours), 1) if hours else None,
        past_deadline=counts["decided_past_deadline"]
        + decision_store.open_appeals_past_deadline(session, period.end),
    )


def qa_in(session: Session, period: Period) -> QaWeek:
    """The week's re-reviews for the team: per category, the disagreements, the calibration topics."""
    start, end = period.start, period.end
    sampled, answered = decision_store.qa_counts(session, period.first_day, period.last_day, start, end)
    return QaWeek(
        sampled=sampled,
        answered=answered,
        by_category=[QaLine(*row) for row in decision_store.qa_lines(session, start, end, "category")],
        disagreements=[
            QaDisagreement(
                review_id=row["id"],
                kind=row["kind"],
                ref=row["ref"],
                original_outcome=row["outcome"],
                original_category=row["category"],
                review_outcome=row["answer_outcome"],
                review_category=row["answer_category"],
                note=row["note"],
                case_link=row["case_link"],
                case_ref=row["case_ref"],
                card=row["card"],
            )
            for row in decision_store.qa_disagreements(session, start, end, QA_DISAGREEMENTS)
        ],
        disagreements_total=decision_store.qa_disagreement_count(session, start, end),
        calibration=[QaTopic(*row) for row in decision_store.qa_calibration(session, start, end, QA_TOPICS)],
    )


def qa_by_analyst(session: Session, start: datetime, end: datetime, label: str) -> QaAnalystWeek:
    """Agreement with each decider's decisions (admins only) and per category, for [start, end)."""
    return QaAnalystWeek(
        label=label,
        by_decider=[QaLine(*row) for row in decision_store.qa_lines(session, start, end, "decider")],
        by_category=[QaLine(*row) for row in decision_store.qa_lines(session, start, end, "category")],
    )


def build_review(session: Session, period: Period, now: datetime, sources: ReportSources) -> ReviewReport:
    return ReviewReport(period, now, sources.investigations.week(session, period.start, period.end))


def at_risk_before(config: VigilConfig, now: datetime) -> dict[str, datetime]:
    """Per priority, the SLA due time before which an open case is at risk: 75% of its SLA
    gone (the nudge point), i.e. due within the last quarter of it."""
    return {p: now + config.sla.for_priority(p) * (1 - NUDGE_AT) for p in PRIORITIES}


def build_shift(session: Session, config: VigilConfig, today: Period, now: datetime) -> ShiftReport:
    yesterday = day_of(today.first_day - timedelta(days=1), today.tz)
    return ShiftReport(
        period=today,
        yesterday=yesterday,
        generated_at=now,
        queue=store.queue_now(session, now, at_risk_before(config, now)),
        yesterday_volume=volume_between(session, yesterday, yesterday.previous()),
        yesterday_sla=sla_between(session, yesterday.start, yesterday.end)[-1],
    )


def build_summary(session: Session, period: Period, category: str | None) -> SummaryReport:
    previous = period.previous()
    return SummaryReport(
        period=period,
        previous=previous,
        category=category,
        volume=volume_between(session, period, previous, category),
        sla=sla_between(session, period.start, period.end, category),
        backlog=store.backlog_at(session, period.end, category),
        enforcement=None if category else enforcement_in(session, period),
    )

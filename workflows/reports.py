"""Review cadences: the weekly digest, the weekly investigation review, the daily shift
summary, on-demand reports and exports.

Figures come from aggregate queries (store/reports.py); this module decides periods,
assembles sections and runs each scheduled post exactly once per period:

- a ``digest_runs`` row unique on (digest, period) is claimed (INSERT … ON CONFLICT DO
  NOTHING) and the post job queued in the same transaction, so two replicas, a restart or
  the catch-up at start never post twice;
- the job moves the run claimed → posting → posted with conditional UPDATEs; a failed
  post is recorded (status failed, attempts, error) and claimed again by the next
  scheduler tick, with a new job key, until ``MAX_ATTEMPTS``;
- a run found in ``posting`` after its lease ran out was interrupted mid-post: Vigil cannot
  know whether Slack got it, so it is marked failed and left to a person
  (``vigil digest send --force``) rather than risk a double post.

Sections whose capability is not installed on this deployment (investigations, anomalies,
AI patterns) come from small protocols whose defaults say "no data", so the section says
so instead of disappearing.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import reports as store
from store.cases import Case
from store.db import Database
from store.enforcement import EnforcementAction, EnforcementRequest
from store.reports import (
    CLAIMED,
    FAILED_RUN,
    POSTED,
    POSTING,
    Backlog,
    DigestRun,
    EnforcementWeek,
    Percentiles,
    QueueNow,
    Reversals,
)
from workflows.cases import CATEGORIES, NUDGE_AT, PRIORITIES
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.installation import first_start
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import DIGESTS_FAILED, DIGESTS_POSTED
from workflows.periods import Period, day_of, last_full_week, local_date, week_of
from workflows.ports import MessageRef

log = logging.getLogger(__name__)

WEEKLY, REVIEW, SHIFT = "weekly", "investigations", "shift"
DIGESTS = (WEEKLY, REVIEW, SHIFT)
MAX_ATTEMPTS = 12  # one per scheduler tick (5 min): an hour of Slack trouble
LEASE = timedelta(minutes=10)
TREND_WEEKS = 8
REVERSAL_WINDOW = timedelta(days=90)
SHIFT_MIN_HITS = 10  # a rule's weekly hits must move by at least this …
SHIFT_RATIO = 0.5  # … and by half of last week's, to be called a shift
TOP_RULES = 5
BULK_OVER = 10  # accounts: the enforcement card reports per account up to here, as a bulk run above
INVESTIGATION_OUTCOMES = {
    "abuse_confirmed": "abuse confirmed",
    "legitimate_outlier": "legitimate outlier",
    "inconclusive": "inconclusive",
}
JOB_POST = "digest.post"
JOB_CHART = "digest.chart"


# --- what other capabilities provide (protocols with "no data" defaults) --------------------------
@dataclass(frozen=True)
class OpenInvestigation:
    ref: str
    title: str
    owner: str | None
    opened_at: datetime


@dataclass(frozen=True)
class InvestigationWeek:
    opened: int
    closed: int
    outcomes: dict[str, int]  # abuse_confirmed, legitimate_outlier, … (closed in the period)
    open_now: int
    oldest_open: list[OpenInvestigation] = field(default_factory=list)


class InvestigationStats(Protocol):
    """Investigations opened, closed and still open for [start, end); None when not tracked."""

    def week(self, session: Session, start: datetime, end: datetime) -> InvestigationWeek | None: ...


class NoInvestigationStats:
    def week(self, session: Session, start: datetime, end: datetime) -> InvestigationWeek | None:
        return None


@dataclass(frozen=True)
class AnomalyItem:
    ref: str
    title: str
    status: str
    opened_at: datetime


@dataclass(frozen=True)
class AnomalyWeek:
    raised: int
    resolved: int
    open_now: int
    by_kind: dict[str, int] = field(default_factory=dict)
    notable: list[AnomalyItem] = field(default_factory=list)


class AnomalyStats(Protocol):
    """Anomalies raised and resolved in [start, end); None when not tracked."""

    def week(self, session: Session, start: datetime, end: datetime) -> AnomalyWeek | None: ...


class NoAnomalyStats:
    def week(self, session: Session, start: datetime, end: datetime) -> AnomalyWeek | None:
        return None


@dataclass(frozen=True)
class AbusePattern:
    title: str
    summary: str
    cases: int
    trend: str | None = None  # "new", "rising", "falling"


class PatternSource(Protocol):
    """Top abuse patterns for [start, end) (the AI capability); None when not configured."""

    def top(
        self, session: Session, start: datetime, end: datetime, limit: int
    ) -> list[AbusePattern] | None: ...


class NoPatterns:
    def top(self, session: Session, start: datetime, end: datetime, limit: int) -> list[AbusePattern] | None:
        return None


@dataclass(frozen=True)
class ReportSources:
    investigations: InvestigationStats = field(default_factory=NoInvestigationStats)
    anomalies: AnomalyStats = field(default_factory=NoAnomalyStats)
    patterns: PatternSource = field(default_factory=NoPatterns)


# --- what reports contain ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        return self.delta / self.previous if self.previous else None


@dataclass(frozen=True)
class VolumeLine:
    key: str
    label: str
    change: Change


@dataclass(frozen=True)
class Volume:
    total: Change
    by_category: list[VolumeLine]
    by_source: list[VolumeLine]


@dataclass(frozen=True)
class SlaLine:
    priority: str  # P1…P4 or "all"
    due: int
    met: int
    claim: Percentiles
    resolve: Percentiles

    @property
    def attainment(self) -> float | None:
        return self.met / self.due if self.due else None


@dataclass(frozen=True)
class RuleShift:
    rule_id: str
    previous: int
    current: int


@dataclass(frozen=True)
class RuleHits:
    top: list[tuple[str, int, int]]  # rule id, live, shadow
    shifts: list[RuleShift]
    total: int


@dataclass(frozen=True)
class Enforcement:
    week: EnforcementWeek
    reversals: Reversals  # suspensions in the REVERSAL_WINDOW to the period's end, later reinstated


@dataclass(frozen=True)
class ChartData:
    days: list[date]
    daily: dict[str, list[int]]  # category → cases per day
    weeks: list[str]
    sla_attainment: list[float | None]  # per week, None when nothing was due
    sla_due: list[int]


@dataclass(frozen=True)
class DigestReport:
    period: Period
    previous: Period
    generated_at: datetime
    volume: Volume
    sla: list[SlaLine]  # P1…P4 then "all"
    backlog: Backlog
    enforcement: Enforcement
    rules: RuleHits
    investigations: InvestigationWeek | None
    anomalies: AnomalyWeek | None
    patterns: list[AbusePattern] | None
    charts: ChartData

    @property
    def sla_overall(self) -> SlaLine:
        return self.sla[-1]


@dataclass(frozen=True)
class ReviewReport:
    period: Period
    generated_at: datetime
    investigations: InvestigationWeek | None


@dataclass(frozen=True)
class ShiftReport:
    period: Period  # today
    yesterday: Period
    generated_at: datetime
    queue: QueueNow
    yesterday_volume: Volume
    yesterday_sla: SlaLine


@dataclass(frozen=True)
class SummaryReport:
    """/vigil report: the digest's core figures for a week or a month, optionally one category."""

    period: Period
    previous: Period
    category: str | None
    volume: Volume
    sla: list[SlaLine]
    backlog: Backlog
    enforcement: Enforcement | None  # not split by category


@dataclass(frozen=True)
class Chart:
    name: str  # file stem: daily-volume, sla-trend
    title: str
    png: bytes


Report = DigestReport | ReviewReport | ShiftReport


# --- computing (read-only) -----------------------------------------------------------------------
def _volume(session: Session, period: Period, previous: Period, category: str | None = None) -> Volume:
    counts = store.volume_two(session, (period.start, period.end), (previous.start, previous.end), category)

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
    by_source = lines(1, {"channel": "Escalation channels", "shortcut": "Message shortcut"})
    total = Change(
        sum(line.change.current for line in by_category), sum(line.change.previous for line in by_category)
    )
    return Volume(total, by_category, by_source)


def _sla(session: Session, start: datetime, end: datetime, category: str | None = None) -> list[SlaLine]:
    due = store.sla_by_priority(session, start, end, category)
    claim = store.percentiles_by_priority(session, Case.claimed_at, start, end, category)
    resolve = store.percentiles_by_priority(session, Case.resolved_at, start, end, category)
    empty = Percentiles(0, None, None)
    lines = [
        SlaLine(
            p,
            due.get(p, store.SlaRow(0, 0)).due,
            due.get(p, store.SlaRow(0, 0)).met,
            claim.get(p, empty),
            resolve.get(p, empty),
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


def _rules(session: Session, period: Period, previous: Period) -> RuleHits:
    rows = store.rule_hits_between(session, previous.start, period.start, period.end)
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


def _enforcement(session: Session, period: Period) -> Enforcement:
    return Enforcement(
        store.enforcement_between(session, period.start, period.end, BULK_OVER),
        store.reversals_between(session, period.end - REVERSAL_WINDOW, period.end),
    )


def chart_data(session: Session, period: Period) -> ChartData:
    """Daily volume by category over the 8 weeks to this period's end, and weekly SLA attainment."""
    first = (
        period.shifted_weeks(-(TREND_WEEKS - 1))
        if period.kind == "week"
        else week_of(period.first_day - timedelta(days=7 * (TREND_WEEKS - 1)), period.tz)
    )
    days = [first.first_day + timedelta(days=i) for i in range(7 * TREND_WEEKS)]
    span = Period(
        "week", first.name, first.first_day, len(days), period.tz, first.start, period.end, period.full_end
    )
    day_bounds = span.day_bounds()
    volume = store.daily_volume(session, day_bounds)
    categories = sorted(
        {cat for _, cat in volume}, key=lambda c: -sum(v for (_, k), v in volume.items() if k == c)
    )
    daily = {cat: [volume.get((i, cat), 0) for i in range(len(days))] for cat in categories}
    weeks = [first.shifted_weeks(i) for i in range(TREND_WEEKS)]
    week_bounds = [w.start for w in weeks] + [period.end]
    trend = store.sla_trend(session, week_bounds)
    rows = [trend.get(i, store.SlaRow(0, 0)) for i in range(TREND_WEEKS)]
    return ChartData(
        days=days,
        daily=daily,
        weeks=[w.name for w in weeks],
        sla_attainment=[r.met / r.due if r.due else None for r in rows],
        sla_due=[r.due for r in rows],
    )


def build_digest(session: Session, period: Period, now: datetime, sources: ReportSources) -> DigestReport:
    previous = period.previous()
    return DigestReport(
        period=period,
        previous=previous,
        generated_at=now,
        volume=_volume(session, period, previous),
        sla=_sla(session, period.start, period.end),
        backlog=store.backlog_at(session, period.end),
        enforcement=_enforcement(session, period),
        rules=_rules(session, period, previous),
        investigations=sources.investigations.week(session, period.start, period.end),
        anomalies=sources.anomalies.week(session, period.start, period.end),
        patterns=sources.patterns.top(session, period.start, period.end, 5),
        charts=chart_data(session, period),
    )


def build_review(session: Session, period: Period, now: datetime, sources: ReportSources) -> ReviewReport:
    return ReviewReport(period, now, sources.investigations.week(session, period.start, period.end))


def build_shift(session: Session, config: VigilConfig, today: Period, now: datetime) -> ShiftReport:
    yesterday = day_of(today.first_day - timedelta(days=1), today.tz)
    # At risk: 75% of the SLA gone (the nudge point), i.e. due within the last quarter of it.
    at_risk_before = {p: now + config.sla.for_priority(p) * (1 - NUDGE_AT) for p in PRIORITIES}
    return ShiftReport(
        period=today,
        yesterday=yesterday,
        generated_at=now,
        queue=store.queue_now(session, now, at_risk_before),
        yesterday_volume=_volume(session, yesterday, yesterday.previous()),
        yesterday_sla=_sla(session, yesterday.start, yesterday.end)[-1],
    )


def build_summary(session: Session, period: Period, category: str | None) -> SummaryReport:
    previous = period.previous()
    return SummaryReport(
        period=period,
        previous=previous,
        category=category,
        volume=_volume(session, period, previous, category),
        sla=_sla(session, period.start, period.end, category),
        backlog=store.backlog_at(session, period.end, category),
        enforcement=None if category else _enforcement(session, period),
    )


# --- exports (streamed: rows go to the writer as they come) ------------------------------------------
EXPORT_TABLES = ("cases", "actions", "sla")


def export_rows(
    session: Session, table: str, since: datetime, until: datetime, tz: Any
) -> Iterator[list[Any]]:
    """Header then rows, for a spreadsheet. Times are ISO 8601 in the config's timezone."""

    def local(at: datetime | None) -> str:
        return at.astimezone(tz).isoformat(timespec="seconds") if at else ""

    def minutes(later: datetime | None, earlier: datetime) -> str:
        return f"{(later - earlier).total_seconds() / 60:.1f}" if later else ""

    if table == "cases":
        yield [
            "case", "created_at", "category", "priority", "source", "status", "outcome", "claimed_by",
            "claimed_at", "resolved_by", "resolved_at", "sla_due_at", "sla", "minutes_to_claim",
            "minutes_to_resolve",
        ]  # fmt: skip
        query = (
            select(Case)
            .where(Case.created_at >= since, Case.created_at < until)
            .order_by(Case.id)
            .execution_options(yield_per=1000)
        )
        for case in session.scalars(query):
            if case.resolved_at is not None:
                sla = "met" if case.resolved_at <= case.sla_due_at else "missed"
            else:
                sla = "breached" if case.sla_due_at <= until else "open"
            yield [
                case.ref, local(case.created_at), case.category, case.priority, case.source, case.status,
                case.outcome or "", case.claimed_by or "", local(case.claimed_at), case.resolved_by or "",
                local(case.resolved_at), local(case.sla_due_at), sla,
                minutes(case.claimed_at, case.created_at), minutes(case.resolved_at, case.created_at),
            ]  # fmt: skip
    elif table == "actions":
        yield [
            "request", "action", "account_id", "status", "requester", "reason_code", "requested_at",
            "finished_at", "attempts", "http_status", "reverses_request", "case",
        ]  # fmt: skip
        query = (
            select(EnforcementAction, EnforcementRequest)
            .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
            .where(EnforcementRequest.created_at >= since, EnforcementRequest.created_at < until)
            .order_by(EnforcementAction.id)
            .execution_options(yield_per=1000)
        )
        for action, request in session.execute(query):
            yield [
                request.ref, action.action, action.account_id, action.status, request.requester,
                request.reason_code, local(request.created_at), local(action.finished_at), action.attempts,
                action.result_code or "",
                f"REQ-{request.reverses_request_id}" if request.reverses_request_id else "",
                request.case_ref or "",
            ]  # fmt: skip
    elif table == "sla":
        yield [
            "week", "priority", "due", "met", "attainment", "claimed", "median_minutes_to_claim",
            "p90_minutes_to_claim", "resolved", "median_minutes_to_resolve", "p90_minutes_to_resolve",
        ]  # fmt: skip
        week = week_of(local_date(since, tz), tz, until)
        while week.start < until:
            for line in _sla(session, week.start, min(week.end, until)):
                yield [
                    week.name, line.priority, line.due, line.met,
                    "" if line.attainment is None else f"{line.attainment:.4f}",
                    line.claim.count, _minutes(line.claim.p50), _minutes(line.claim.p90),
                    line.resolve.count, _minutes(line.resolve.p50), _minutes(line.resolve.p90),
                ]  # fmt: skip
            week = week_of(week.last_day + timedelta(days=1), tz, until)
    else:
        raise ValueError(f"unknown table {table!r}; one of {', '.join(EXPORT_TABLES)}")


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


# --- the notifier port ---------------------------------------------------------------------------------
class ReportNotifier(Protocol):
    def post_report(self, report: Report) -> MessageRef: ...
    def upload_chart(self, where: MessageRef, period: Period, chart: Chart) -> None: ...


# --- scheduled runs, exactly once ------------------------------------------------------------------
RunOutcome = Literal[
    "claimed",
    "retrying",
    "exists",
    "busy",
    "interrupted",
    "gave_up",
    "posted",
    "failed",
    "superseded",
    "before_first_start",
]


def covered_until(digest: str, period: Period) -> datetime:
    """The end of what a post reports on: its week for the digest and the review; for the
    shift summary, the day before (its post shows that day and the queue as it is now)."""
    return period.start if digest == SHIFT else period.full_end


@dataclass(frozen=True)
class RunResult:
    outcome: RunOutcome
    digest: str
    period: str
    run_id: int | None = None
    round: int = 0
    error: str | None = None
    ts: str | None = None


class Reports:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        sources: ReportSources | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.sources = sources or ReportSources()
        self._wake = wake or (lambda: None)
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._first_start: datetime | None = None

    @property
    def tz(self) -> Any:
        return self.config.tz

    # reading -------------------------------------------------------------------------------------
    def digest(self, period: Period) -> DigestReport:
        with self.db.read() as session:
            return build_digest(session, period, self.clock.now(), self.sources)

    def review(self, period: Period) -> ReviewReport:
        with self.db.read() as session:
            return build_review(session, period, self.clock.now(), self.sources)

    def shift(self, today: Period) -> ShiftReport:
        with self.db.read() as session:
            return build_shift(session, self.config, today, self.clock.now())

    def summary(self, period: Period, category: str | None = None) -> SummaryReport:
        with self.db.read() as session:
            return build_summary(session, period, category)

    def charts(self, report: DigestReport) -> list[Chart]:
        from workflows.charts import render_charts  # matplotlib loads only when a chart is drawn

        return render_charts(report.charts, report.period)

    def build(self, digest: str, period: Period) -> Report:
        if digest == WEEKLY:
            return self.digest(period)
        if digest == REVIEW:
            return self.review(period)
        if digest == SHIFT:
            return self.shift(period)
        raise ValueError(f"unknown digest {digest!r}")

    # schedules -------------------------------------------------------------------------------------
    def _latest_schedule(self, digest: str, now: datetime) -> datetime:
        """The latest scheduled local time at or before ``now``."""
        local_now = now.astimezone(self.tz)
        if digest == SHIFT:
            hour, minute = _hhmm(self.config.digest.shift_time)
            weekday = None
        else:
            hour, minute = self.config.digest.hour, self.config.digest.minute
            weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(self.config.digest.weekday)
        day = local_now.date()
        for back in range(8):
            candidate_day = day - timedelta(days=back)
            if weekday is not None and candidate_day.weekday() != weekday:
                continue
            candidate = datetime(
                candidate_day.year, candidate_day.month, candidate_day.day, hour, minute, tzinfo=self.tz
            )
            if candidate <= local_now:
                return candidate
        raise AssertionError("a weekly schedule always fires within 8 days")

    def due_period(self, digest: str, now: datetime | None = None) -> Period:
        """The period the latest scheduled run (at or before now) is for."""
        at = self._latest_schedule(digest, now or self.clock.now())
        if digest == SHIFT:
            return day_of(at.date(), self.tz)
        return last_full_week(at, self.tz)

    def period_of(self, digest: str, name: str) -> Period:
        from workflows.periods import parse_period

        period = parse_period(name, self.clock.now(), self.tz)
        expected = "day" if digest == SHIFT else "week"
        if period.kind != expected:
            raise ValueError(f"the {digest} digest is per {expected}, not {period.kind} ({name})")
        return period

    # claiming ---------------------------------------------------------------------------------------
    def first_start(self) -> datetime:
        if self._first_start is None:  # recorded once per deployment, never changes after
            self._first_start = first_start(self.db, self.clock)
        return self._first_start

    def run_due(self, digests: tuple[str, ...] = DIGESTS) -> list[RunResult]:
        """What the scheduler (cron, the retry tick, the catch-up at start) calls: the latest
        due period of each digest is claimed once, a failed one retried, a stuck one settled.
        A period that ended before Vigil first started here is never posted by itself: a new
        install must not post last week's digest into channels it was only just given."""
        installed = self.first_start()
        results = []
        for digest in digests:
            period = self.due_period(digest)
            if covered_until(digest, period) <= installed:
                results.append(RunResult("before_first_start", digest, period.name))
                continue
            results.append(self.claim(digest, period.name, enqueue_post=True))
        if any(r.outcome in ("claimed", "retrying") for r in results):
            self._wake()
        return results

    def catch_up(self) -> list[RunResult]:
        """At start: posts the latest missed period of each digest (older ones stay missed)."""
        results = self.run_due()
        for result in results:
            if result.outcome in ("claimed", "retrying", "before_first_start"):
                log.info(
                    "digest catch-up",
                    extra={"digest": result.digest, "period": result.period, "outcome": result.outcome},
                )
        return results

    def claim(self, digest: str, period: str, *, force: bool = False, enqueue_post: bool = True) -> RunResult:
        now = self.clock.now()
        with self.db.transaction() as session:
            run = store.get_run(session, digest, period)
            if run is None:
                if not store.insert_run(session, digest, period, self.worker_id, now, now + LEASE):
                    return RunResult("exists", digest, period)  # another replica, this instant
                run = store.get_run(session, digest, period)
                assert run is not None
                self._queue(session, run, enqueue_post)
                return RunResult("claimed", digest, period, run.id, run.round)
            lease_over = run.lease_until is None or run.lease_until < now
            if run.status == POSTING and not lease_over:
                return RunResult("busy", digest, period, run.id, run.round)
            if force:
                return self._reclaim(session, run, now, enqueue_post, "retrying", forced=True)
            if run.status == POSTING:  # lease over: interrupted mid-post; Slack may have it
                error = (
                    "interrupted while posting (the process stopped); check the digest channel, then "
                    f"`vigil digest send --week {period} --force` if it is not there"
                )
                settled = store.transition(
                    session,
                    run.id,
                    (DigestRun.status == POSTING) & (DigestRun.round == run.round),
                    {"status": FAILED_RUN, "retryable": False, "error": error, "updated_at": now},
                )
                if settled is not None:
                    DIGESTS_FAILED.labels(digest=digest).inc()
                    log.error("digest post interrupted", extra={"digest": digest, "period": period})
                return RunResult("interrupted", digest, period, run.id, run.round, error)
            if run.status == FAILED_RUN and run.retryable and run.attempts < MAX_ATTEMPTS:
                return self._reclaim(session, run, now, enqueue_post, "retrying")
            if run.status == FAILED_RUN:
                return RunResult("gave_up", digest, period, run.id, run.round, run.error)
            if run.status == CLAIMED and lease_over:  # claimed, never started (a crash before the job ran)
                return self._reclaim(session, run, now, enqueue_post, "retrying")
            return RunResult("exists", digest, period, run.id, run.round, run.error, run.ts)

    def _reclaim(
        self,
        session: Session,
        run: DigestRun,
        now: datetime,
        enqueue_post: bool,
        outcome: RunOutcome,
        *,
        forced: bool = False,
    ) -> RunResult:
        values: dict[str, Any] = {
            "status": CLAIMED,
            "round": run.round + 1,
            "claimed_by": self.worker_id,
            "lease_until": now + LEASE,
            "updated_at": now,
            "retryable": True,
        }
        if forced:
            values.update(
                forced=True, attempts=0, error=None, ts=None, channel=None, posted_at=None, charts=[]
            )
        moved = store.transition(
            session,
            run.id,
            (DigestRun.round == run.round) & (DigestRun.status == run.status),
            values,
        )
        if moved is None:  # someone else moved it first
            return RunResult("exists", run.digest, run.period, run.id, run.round)
        self._queue(session, moved, enqueue_post)
        return RunResult(outcome, moved.digest, moved.period, moved.id, moved.round)

    def _queue(self, session: Session, run: DigestRun, enqueue_post: bool) -> None:
        if enqueue_post:
            enqueue(
                session,
                self.clock,
                JOB_POST,
                {"digest": run.digest, "period": run.period, "round": run.round},
                key=f"digest:{run.digest}:{run.period}:{run.round}",
                max_attempts=1,  # retries are new rounds, claimed by the scheduler tick
            )

    # posting ------------------------------------------------------------------------------------------
    def post(
        self, digest: str, period: str, round_: int, notifier: ReportNotifier, *, queue_charts: bool = True
    ) -> RunResult:
        """Post a claimed run once: claimed → posting → posted (or failed, recorded)."""
        now = self.clock.now()
        with self.db.transaction() as session:
            run = store.get_run(session, digest, period)
            if run is None:
                raise PermanentJobError(f"no digest run {digest} {period}")
            started = store.transition(
                session,
                run.id,
                (DigestRun.status == CLAIMED) & (DigestRun.round == round_),
                {
                    "status": POSTING,
                    "attempts": DigestRun.attempts + 1,
                    "claimed_by": self.worker_id,
                    "lease_until": now + LEASE,
                    "updated_at": now,
                },
            )
            if started is None:
                outcome: RunOutcome = "exists" if run.status == POSTED else "superseded"
                return RunResult(outcome, digest, period, run.id, run.round, run.error, run.ts)
            run_id, attempts = started.id, started.attempts
        try:
            report = self.build(digest, self.period_of(digest, period))
            ref = notifier.post_report(report)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            with self.db.transaction() as session:
                store.transition(
                    session,
                    run_id,
                    (DigestRun.status == POSTING) & (DigestRun.round == round_),
                    {
                        "status": FAILED_RUN,
                        "error": error,
                        "retryable": attempts < MAX_ATTEMPTS,
                        "updated_at": self.clock.now(),
                    },
                )
            DIGESTS_FAILED.labels(digest=digest).inc()
            log.warning(
                "digest post failed",
                extra={"digest": digest, "period": period, "attempt": attempts, "error": error},
            )
            return RunResult("failed", digest, period, run_id, round_, error)
        with self.db.transaction() as session:
            posted = store.transition(
                session,
                run_id,
                (DigestRun.status == POSTING) & (DigestRun.round == round_),
                {
                    "status": POSTED,
                    "channel": ref.channel,
                    "ts": ref.ts,
                    "error": None,
                    "posted_at": self.clock.now(),
                    "lease_until": None,
                    "updated_at": self.clock.now(),
                },
            )
            if posted is not None and queue_charts and digest == WEEKLY:
                for name in CHART_NAMES:
                    enqueue(
                        session,
                        self.clock,
                        JOB_CHART,
                        {"run_id": run_id, "round": round_, "chart": name},
                        key=f"digest-chart:{run_id}:{round_}:{name}",
                    )
        DIGESTS_POSTED.labels(digest=digest).inc()
        self._wake()
        return RunResult("posted", digest, period, run_id, round_, ts=ref.ts)

    def upload_charts(self, run_id: int, notifier: ReportNotifier, only: str | None = None) -> list[str]:
        """Upload the run's charts not uploaded yet, in its thread; returns the names uploaded."""
        with self.db.read() as session:
            run = session.get(DigestRun, run_id)
            if run is None or run.status != POSTED or not run.ts or not run.channel:
                raise PermanentJobError(f"digest run {run_id} is not posted")
            done, where = set(run.charts or []), MessageRef(run.channel, run.ts)
            period = self.period_of(run.digest, run.period)
        wanted = [n for n in CHART_NAMES if n not in done and (only is None or n == only)]
        if not wanted:
            return []
        with self.db.read() as session:
            data = chart_data(session, period)
        from workflows.charts import render

        uploaded = []
        for name in wanted:
            notifier.upload_chart(where, period, render(name, data, period))
            with self.db.transaction() as session:
                row = session.get(DigestRun, run_id, with_for_update=True)
                assert row is not None
                row.charts = sorted({*(row.charts or []), name})
            uploaded.append(name)
        return uploaded

    def register_jobs(self, runner: JobRunner, notifier: ReportNotifier) -> None:
        def post(payload: dict[str, Any]) -> None:
            result = self.post(payload["digest"], payload["period"], int(payload["round"]), notifier)
            if result.outcome == "failed":
                # Recorded on the run; the next scheduler tick claims a new round.
                raise PermanentJobError(result.error or "digest post failed")

        def chart(payload: dict[str, Any]) -> None:
            self.upload_charts(int(payload["run_id"]), notifier, only=payload["chart"])

        runner.register(JOB_POST, post)
        runner.register(JOB_CHART, chart)

    def runs(self, limit: int = 20) -> list[DigestRun]:
        with self.db.read() as session:
            return store.recent_runs(session, limit)


CHART_NAMES = ("daily-volume", "sla-trend")


def _hhmm(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)

"""What reports contain: frozen read models handed to the adapters (blocks, the CLI, the
chart renderer), and the figures other capabilities contribute to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from store.reports import Backlog, EnforcementWeek, Percentiles, QueueNow, Reversals
from workflows.periods import Period


# --- what other capabilities contribute (through the sources in ports.py) ----------------------------
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


@dataclass(frozen=True)
class AbusePattern:
    title: str
    summary: str
    cases: int
    trend: str | None = None  # "new", "rising", "falling"


@dataclass(frozen=True)
class CoverageWeek:
    """Detection coverage of the abuse confirmed this week (the coverage capability)."""

    confirmed: int
    automation_share: float
    people_share: float
    median_delay_hours: float | None
    previous_confirmed: int  # the 4 weeks before
    previous_automation_share: float | None
    weak_points: list[str]  # the top three, worded
    recommendations: list[tuple[str, list[tuple[str, str | None]]]]  # text, evidence (ref, link)


@dataclass(frozen=True)
class HandoffWeek:
    """Hand-offs to Engineering still open (oldest first) and manual enforcement this week."""

    open: list[tuple[str, str, str | None, float]]  # ref, title, ticket key, age in hours
    manual_executed: int
    manual_median_wait_hours: float | None
    manual_max_wait_hours: float | None
    manual_waiting: int
    manual_oldest_wait_hours: float | None
    review_url: str | None = None  # the week's review page (Confluence), when published


# --- sections ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """A count this period against the period before."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """The change as a fraction of before; None when there was nothing before to compare with."""
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
class EnforcementFigures:
    week: EnforcementWeek
    reversals: Reversals  # suspensions in the reversal window to the period's end, later reinstated


# --- charts: the domain hands over the data, an adapter draws it ------------------------------------------
ChartName = Literal["daily-volume", "sla-trend"]
CHART_NAMES: tuple[ChartName, ...] = ("daily-volume", "sla-trend")


@dataclass(frozen=True)
class DigestChartData:
    days: list[date]
    daily: dict[str, list[int]]  # category → cases per day
    weeks: list[str]
    sla_attainment: list[float | None]  # per week, None when nothing was due
    sla_due: list[int]


@dataclass(frozen=True)
class Chart:
    name: str  # file stem: daily-volume, sla-trend
    title: str
    png: bytes


# --- reports ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TriageAccuracyLine:
    """Triage suggestions of the cases resolved in the period, per suggested category: how
    many the analysts left in that category and priority (workflows/ai)."""

    category: str
    label: str
    suggested: int
    category_kept: int
    priority_kept: int


@dataclass(frozen=True)
class DigestNarrative:
    """Two to four sentences on what changed, each stating only figures of the digest."""

    sentences: list[str]
    label: str  # "AI-written (model)" or why it was written from the figures


@dataclass(frozen=True)
class AppealWeek:
    received: int
    decided: int
    overturned: int
    median_hours: float | None  # from receipt to decision, of those decided in the week
    past_deadline: int  # open now and past their deadline, or decided after it this week


@dataclass(frozen=True)
class QaLine:
    """Re-reviews answered in the week for one category (or, for admins only, one decider)."""

    key: str
    answered: int
    outcome_agreed: int
    category_agreed: int

    @property
    def outcome_rate(self) -> float | None:
        return self.outcome_agreed / self.answered if self.answered else None

    @property
    def category_rate(self) -> float | None:
        return self.category_agreed / self.answered if self.answered else None


@dataclass(frozen=True)
class QaDisagreement:
    """One re-review that did not match the original: what each side said, and where to look.
    Nobody is named: who decided is the admins' per-analyst view, not the channel's."""

    review_id: int
    kind: str  # case | action
    ref: str  # CASE-n, or REQ-n:account
    original_outcome: str
    original_category: str
    review_outcome: str
    review_category: str
    note: str
    case_link: str | None  # the case's permalink (an action's: of the case its request came from)
    case_ref: str | None  # for an action, the case its request came from
    card: tuple[str, str] | None  # the request's approval card (channel, ts)


@dataclass(frozen=True)
class QaTopic:
    """A calibration topic: a pair the two sides split on. kind ``category``: two categories
    (either way round), ``of`` the re-reviews of items in either; kind ``outcome``: two outcomes
    within the category ``scope``, ``of`` the re-reviews of that category."""

    kind: str
    scope: str
    a: str
    b: str
    disagreed: int
    of: int


@dataclass(frozen=True)
class QaWeek:
    """QA of decisions in the weekly review (what the whole team sees)."""

    sampled: int  # sampled on the week's days
    answered: int  # answered in the week
    by_category: list[QaLine]
    disagreements: list[QaDisagreement]
    disagreements_total: int
    calibration: list[QaTopic]

    @property
    def outcome_agreed(self) -> int:
        return sum(line.outcome_agreed for line in self.by_category)

    @property
    def category_agreed(self) -> int:
        return sum(line.category_agreed for line in self.by_category)


@dataclass(frozen=True)
class QaAnalystWeek:
    """Agreement with each analyst's decisions: for admins only, never in a channel."""

    label: str  # what span it covers, as the reader sees it
    by_decider: list[QaLine]
    by_category: list[QaLine]


@dataclass(frozen=True)
class DigestReport:
    period: Period
    previous: Period
    generated_at: datetime
    volume: Volume
    sla: list[SlaLine]  # P1…P4 then "all"
    backlog: Backlog
    enforcement: EnforcementFigures
    rules: RuleHits
    investigations: InvestigationWeek | None
    anomalies: AnomalyWeek | None
    patterns: list[AbusePattern] | None
    charts: DigestChartData
    triage_accuracy: list[TriageAccuracyLine] | None = None  # None: no suggestions tracked
    narrative: DigestNarrative | None = None
    coverage: CoverageWeek | None = None
    handoffs: HandoffWeek | None = None
    appeals: AppealWeek | None = None  # DSA appeals of the week (workflows/decisions)
    qa: QaWeek | None = None  # QA re-reviews of the week, per category (never per person)

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
    enforcement: EnforcementFigures | None  # not split by category


Report = DigestReport | ReviewReport | ShiftReport

"""Reports: the review cadences of a T&S team — the weekly digest (volumes, SLA, backlog,
enforcement and reversals, rule hits, investigations, anomalies, abuse patterns, charts),
the weekly investigation review, the daily shift summary — plus /vigil report and exports.

- ``build``: the reports, assembled from the store's aggregate figures (read-only);
- ``schedule``: when each post falls due and which period it covers;
- ``service``: the ``Reports`` facade: reading on demand, and each scheduled post exactly once;
- ``exports``: rows for spreadsheets;
- ``views``: the report read models; ``ports``: what reports need from outside (other
  capabilities' figures, a notifier, a chart renderer).

Adapters and other concepts import from here.
"""

from store.reports import Backlog, EnforcementWeek, Percentiles, QueueNow, Reversals
from workflows.reports.build import build_digest, build_review, build_shift, build_summary, chart_data
from workflows.reports.exports import EXPORT_TABLES, export_rows
from workflows.reports.ports import (
    AnomalyStats,
    ChartRenderer,
    DigestAssistant,
    InvestigationStats,
    NoAnomalyStats,
    NoInvestigationStats,
    NoPatterns,
    PatternSource,
    ReportNotifier,
    ReportSources,
)
from workflows.reports.schedule import DIGESTS, REVIEW, SHIFT, WEEKLY, covered_until
from workflows.reports.service import MAX_ATTEMPTS, Reports, RunOutcome, RunResult
from workflows.reports.views import (
    CHART_NAMES,
    AbusePattern,
    AnomalyItem,
    AnomalyWeek,
    AppealWeek,
    Change,
    Chart,
    ChartName,
    DigestChartData,
    DigestNarrative,
    DigestReport,
    EnforcementFigures,
    InvestigationWeek,
    OpenInvestigation,
    Report,
    ReviewReport,
    RuleHits,
    RuleShift,
    ShiftReport,
    SlaLine,
    SummaryReport,
    TriageAccuracyLine,
    Volume,
    VolumeLine,
)

__all__ = [
    "CHART_NAMES",
    "DIGESTS",
    "EXPORT_TABLES",
    "MAX_ATTEMPTS",
    "REVIEW",
    "SHIFT",
    "WEEKLY",
    "AbusePattern",
    "AnomalyItem",
    "AnomalyStats",
    "AnomalyWeek",
    "AppealWeek",
    "Backlog",
    "Change",
    "Chart",
    "ChartName",
    "ChartRenderer",
    "DigestAssistant",
    "DigestChartData",
    "DigestNarrative",
    "DigestReport",
    "EnforcementFigures",
    "EnforcementWeek",
    "InvestigationStats",
    "InvestigationWeek",
    "NoAnomalyStats",
    "NoInvestigationStats",
    "NoPatterns",
    "OpenInvestigation",
    "PatternSource",
    "Percentiles",
    "QueueNow",
    "Report",
    "ReportNotifier",
    "ReportSources",
    "Reports",
    "Reversals",
    "ReviewReport",
    "RuleHits",
    "RuleShift",
    "RunOutcome",
    "RunResult",
    "ShiftReport",
    "SlaLine",
    "SummaryReport",
    "TriageAccuracyLine",
    "Volume",
    "VolumeLine",
    "build_digest",
    "build_review",
    "build_shift",
    "build_summary",
    "chart_data",
    "covered_until",
    "export_rows",
]

"""What reports need from outside: figures from capabilities that may not be installed here
(each with a default that says "no data", so its section says so instead of disappearing),
a notifier that posts, and a renderer that draws the digest's charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from workflows.periods import Period
from workflows.ports import MessageRef
from workflows.reports.views import (
    AbusePattern,
    AnomalyWeek,
    Chart,
    ChartName,
    CoverageWeek,
    DigestChartData,
    DigestNarrative,
    DigestReport,
    HandoffWeek,
    InvestigationWeek,
    QaAnalystWeek,
    Report,
    TriageAccuracyLine,
)


class InvestigationStats(Protocol):
    """Investigations opened, closed and still open for [start, end); None when not tracked."""

    def week(self, session: Session, start: datetime, end: datetime) -> InvestigationWeek | None: ...


class NoInvestigationStats:
    def week(self, session: Session, start: datetime, end: datetime) -> InvestigationWeek | None:
        return None


class AnomalyStats(Protocol):
    """Anomalies raised and resolved in [start, end); None when not tracked."""

    def week(self, session: Session, start: datetime, end: datetime) -> AnomalyWeek | None: ...


class NoAnomalyStats:
    def week(self, session: Session, start: datetime, end: datetime) -> AnomalyWeek | None:
        return None


class PatternSource(Protocol):
    """Top abuse patterns for [start, end) (the AI capability); None when not configured."""

    def top(
        self, session: Session, start: datetime, end: datetime, limit: int
    ) -> list[AbusePattern] | None: ...


class NoPatterns:
    def top(self, session: Session, start: datetime, end: datetime, limit: int) -> list[AbusePattern] | None:
        return None


class DigestAssistant(Protocol):
    """The AI capability's part of the digest: triage suggestion accuracy and the narrative
    (None when not installed)."""

    def triage_accuracy(
        self, session: Session, start: datetime, end: datetime
    ) -> list[TriageAccuracyLine] | None: ...
    def narrative(self, report: DigestReport) -> DigestNarrative | None: ...


class NoDigestAssistant:
    def triage_accuracy(
        self, session: Session, start: datetime, end: datetime
    ) -> list[TriageAccuracyLine] | None:
        return None

    def narrative(self, report: DigestReport) -> DigestNarrative | None:
        return None


class CoverageStats(Protocol):
    """Detection coverage of abuse confirmed in [start, end), against the 4 weeks before."""

    def week(self, session: Session, start: datetime, end: datetime) -> CoverageWeek | None: ...


class NoCoverageStats:
    def week(self, session: Session, start: datetime, end: datetime) -> CoverageWeek | None:
        return None


class HandoffStats(Protocol):
    """Open hand-offs to Engineering and manual enforcement executed in [start, end)."""

    def week(self, session: Session, start: datetime, end: datetime) -> HandoffWeek | None: ...


class NoHandoffStats:
    def week(self, session: Session, start: datetime, end: datetime) -> HandoffWeek | None:
        return None


@dataclass(frozen=True)
class ReportSources:
    investigations: InvestigationStats = field(default_factory=NoInvestigationStats)
    anomalies: AnomalyStats = field(default_factory=NoAnomalyStats)
    patterns: PatternSource = field(default_factory=NoPatterns)
    assistant: DigestAssistant = field(default_factory=NoDigestAssistant)
    coverage: CoverageStats = field(default_factory=NoCoverageStats)
    handoffs: HandoffStats = field(default_factory=NoHandoffStats)


class ReportNotifier(Protocol):
    """Posts a report where the team reads it, and a chart in the thread of that post."""

    def post_report(self, report: Report) -> MessageRef: ...
    def upload_chart(self, where: MessageRef, period: Period, chart: Chart) -> None: ...


class ChartRenderer(Protocol):
    """Draws one of the digest's charts as a PNG (the drawing library stays with the adapter).
    Called from worker threads, side by side."""

    def render(self, name: ChartName, data: DigestChartData, period: Period) -> Chart: ...


class QaAdminNotifier(Protocol):
    """Sends one admin the week's agreement per analyst (a DM: never a channel)."""

    def qa_by_analyst(self, user: str, week: QaAnalystWeek) -> None: ...

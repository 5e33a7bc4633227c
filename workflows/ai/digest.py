"""The AI capability's part of the weekly digest (reports' DigestAssistant port): how often
the analysts kept the triage suggestions, per category, and the narrative of the week
written from (and checked against) the digest's own figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from store import ai as store
from workflows.ai.assistant import Assistant
from workflows.ai.views import Figure
from workflows.cases.triage import CATEGORIES
from workflows.reports.views import DigestNarrative, DigestReport, TriageAccuracyLine

TOP_CATEGORIES = 3


def figures_of(report: DigestReport) -> list[Figure]:
    """The digest's headline figures, named as a manager reads them (this week, last week)."""
    figures = [Figure("Cases opened", report.volume.total.current, report.volume.total.previous)]
    for line in report.volume.by_category[:TOP_CATEGORIES]:
        figures.append(Figure(f"{line.label} cases", line.change.current, line.change.previous))
    attainment = report.sla_overall.attainment
    if attainment is not None:
        figures.append(Figure("SLA met (percent)", round(attainment * 100)))
    figures.append(Figure("Open cases at the end of the week", report.backlog.open))
    figures.append(Figure("Suspensions executed", report.enforcement.week.suspensions))
    figures.append(Figure("Reinstatements executed", report.enforcement.week.reinstatements))
    if report.investigations is not None:
        figures.append(Figure("Investigations opened", report.investigations.opened))
    if report.anomalies is not None:
        figures.append(Figure("Anomalies raised", report.anomalies.raised))
    return figures


class AiDigest:
    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def triage_accuracy(self, session: Session, start: datetime, end: datetime) -> list[TriageAccuracyLine]:
        tally: dict[str, list[int]] = {}
        for suggestion in store.outcomes_between(session, start, end):
            line = tally.setdefault(suggestion.category, [0, 0, 0])
            line[0] += 1
            line[1] += bool(suggestion.category_kept)
            line[2] += bool(suggestion.priority_kept)
        return [
            TriageAccuracyLine(c, CATEGORIES.get(c, c), n, kept_c, kept_p)
            for c, (n, kept_c, kept_p) in sorted(tally.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ]

    def narrative(self, report: DigestReport) -> DigestNarrative:
        view = self.assistant.narrative(report.period.name, figures_of(report))
        label = view.by.label
        if not view.by.ai and view.by.fallback == "no AI configured":
            label = "written from the figures, no AI configured"
        if view.dropped:
            label += f" · {len(view.dropped)} sentence(s) dropped: a figure not in the digest"
        return DigestNarrative(view.sentences, label)

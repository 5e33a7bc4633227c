"""Monday's digest gets its charts from whatever draws them: the reports hand over eight weeks
of figures and a chart name, an adapter turns them into a picture, and the runner it was given
is told at once that a post and its charts are waiting."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from store.db import Database
from store.installation import record_first_start
from store.reports import DigestRun
from tests.harness.report_data import add_case
from tests.harness.world import DIGEST, MONDAY, config_data
from workflows.clock import FixedClock
from workflows.config import parse_config
from workflows.jobs import JobRunner
from workflows.periods import Period
from workflows.ports import MessageRef
from workflows.reports import WEEKLY, Chart, ChartName, DigestChartData, Report, Reports


class SketchingRenderer:
    """Draws nothing: remembers what it was asked to draw and hands back a labelled stub."""

    def __init__(self) -> None:
        self.asked: list[tuple[ChartName, str, DigestChartData]] = []

    def render(self, name: ChartName, data: DigestChartData, period: Period) -> Chart:
        self.asked.append((name, period.name, data))
        return Chart(name, f"{name} to {period.name}", f"sketch of {name}".encode())


class DigestChannel:
    def __init__(self) -> None:
        self.posts: list[Report] = []
        self.uploads: list[tuple[MessageRef, str, Chart]] = []

    def post_report(self, report: Report) -> MessageRef:
        self.posts.append(report)
        return MessageRef(DIGEST, "1700000000.000100")

    def upload_chart(self, where: MessageRef, period: Period, chart: Chart) -> None:
        self.uploads.append((where, period.name, chart))


class AttentiveRunner(JobRunner):
    """A job runner that counts how often it is told there is work."""

    woken = 0

    def wake(self) -> None:
        self.woken += 1
        super().wake()


def test_the_digest_charts_are_drawn_by_the_renderer_it_was_given(db: Database) -> None:
    config = parse_config(config_data())
    clock = FixedClock(MONDAY)
    with db.transaction() as session:
        record_first_start(session, datetime(2026, 10, 1, tzinfo=UTC), "test")
        add_case(session, config, datetime(2026, 11, 17, 9, tzinfo=UTC), category="host_report")
    runner, renderer, channel = AttentiveRunner(db, clock), SketchingRenderer(), DigestChannel()
    reports = Reports(db, clock, config, jobs=runner, renderer=renderer)
    reports.register_jobs(channel)

    assert [r.outcome for r in reports.run_due((WEEKLY,))] == ["claimed"]
    assert runner.woken == 1  # the post is waiting: the runner hears it now, not at its next poll
    runner.run_until_idle()

    assert [p.period.name for p in channel.posts] == ["2026-W47"]
    assert runner.woken == 2  # posted: its chart jobs are waiting
    assert sorted(name for name, _, _ in renderer.asked) == ["daily-volume", "sla-trend"]
    for _, period, data in renderer.asked:
        assert period == "2026-W47" and len(data.days) == 56 and data.weeks[-1] == "2026-W47"
        assert data.daily["host_report"][data.days.index(datetime(2026, 11, 17).date())] == 1
    assert sorted((where.ts, chart.png) for where, _, chart in channel.uploads) == [
        ("1700000000.000100", b"sketch of daily-volume"),
        ("1700000000.000100", b"sketch of sla-trend"),
    ]
    with db.read() as session:
        run = session.scalars(select(DigestRun)).one()
    assert (run.status, run.charts) == ("posted", ["daily-volume", "sla-trend"])

    # A preview draws with the same renderer, and posts nothing.
    preview = reports.charts(reports.digest(reports.period_of(WEEKLY, "2026-W47")))
    assert [c.title for c in preview] == ["daily-volume to 2026-W47", "sla-trend to 2026-W47"]
    assert len(channel.posts) == 1

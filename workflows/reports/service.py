"""The Reports service: reading reports on demand (preview, /vigil report) and running each
scheduled post exactly once per period.

- a ``digest_runs`` row unique on (digest, period) is claimed (INSERT … ON CONFLICT DO
  NOTHING) and the post job queued in the same transaction, so two replicas, a restart or
  the catch-up at start never post twice;
- the job moves the run claimed → posting → posted with conditional UPDATEs; a failed
  post is recorded (status failed, attempts, error) and claimed again by the next
  scheduler tick, with a new job key, until ``MAX_ATTEMPTS``;
- a run found in ``posting`` after its lease ran out was interrupted mid-post: Vigil cannot
  know whether Slack got it, so it is marked failed and left to a person
  (``vigil digest send --force``) rather than risk a double post;
- after the weekly digest is posted, one job per chart draws it (through the ChartRenderer
  port) and uploads it in the digest's thread.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from store import reports as store
from store.db import Database
from store.reports import CLAIMED, FAILED_RUN, POSTED, POSTING, DigestRun
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.installation import first_start
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import DIGESTS_FAILED, DIGESTS_POSTED
from workflows.periods import Period
from workflows.ports import MessageRef
from workflows.reports.build import (
    build_digest,
    build_review,
    build_shift,
    build_summary,
    chart_data,
    qa_by_analyst,
)
from workflows.reports.ports import ChartRenderer, QaAdminNotifier, ReportNotifier, ReportSources
from workflows.reports.schedule import DIGESTS, REVIEW, SHIFT, WEEKLY, covered_until, due_period, period_of
from workflows.reports.views import (
    CHART_NAMES,
    Chart,
    ChartName,
    DigestReport,
    QaAnalystWeek,
    Report,
    ReviewReport,
    ShiftReport,
    SummaryReport,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # one per scheduler tick (5 min): an hour of Slack trouble
LEASE = timedelta(minutes=10)
JOB_POST = "digest.post"
JOB_CHART = "digest.chart"
JOB_QA_ADMIN = "digest.qa_admin"  # the per-analyst QA table, one DM per admin

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
        *,
        jobs: JobRunner,
        renderer: ChartRenderer,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.sources = sources or ReportSources()
        self.jobs = jobs
        self.renderer = renderer
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._first_start: datetime | None = None
        self._qa_admins = False  # whether this process sends the admins' QA DMs (register_jobs)

    @property
    def tz(self) -> ZoneInfo:
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

    def qa_by_analyst(self, start: datetime, end: datetime, label: str) -> QaAnalystWeek:
        """Agreement with each analyst's decisions in [start, end): only ever shown to admins."""
        with self.db.read() as session:
            return qa_by_analyst(session, start, end, label)

    def admins(self) -> list[str]:
        """Admins named by user id (user groups are not expanded here): who gets the QA DM."""
        return sorted({p for p in self.config.roles.admins if p[:1] in ("U", "W")})

    def charts(self, report: DigestReport) -> list[Chart]:
        return [self.renderer.render(name, report.charts, report.period) for name in CHART_NAMES]

    def build(self, digest: str, period: Period) -> Report:
        if digest == WEEKLY:
            return self.digest(period)
        if digest == REVIEW:
            return self.review(period)
        if digest == SHIFT:
            return self.shift(period)
        raise ValueError(f"unknown digest {digest!r}")

    def runs(self, limit: int = 20) -> list[DigestRun]:
        with self.db.read() as session:
            return store.recent_runs(session, limit)

    # schedules -------------------------------------------------------------------------------------
    def due_period(self, digest: str, now: datetime | None = None) -> Period:
        """The period the latest scheduled run (at or before now) is for."""
        return due_period(digest, now or self.clock.now(), self.config.digest, self.tz)

    def period_of(self, digest: str, name: str) -> Period:
        return period_of(digest, name, self.clock.now(), self.tz)

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
            self.jobs.wake()
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
                settled = store.mark_failed(session, run.id, run.round, error, retryable=False, now=now)
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
        moved = store.reclaim_run(
            session, run.id, run.status, run.round, self.worker_id, now, now + LEASE, forced=forced
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
            started = store.start_posting(session, run.id, round_, self.worker_id, now, now + LEASE)
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
                store.mark_failed(
                    session, run_id, round_, error, retryable=attempts < MAX_ATTEMPTS, now=self.clock.now()
                )
            DIGESTS_FAILED.labels(digest=digest).inc()
            log.warning(
                "digest post failed",
                extra={"digest": digest, "period": period, "attempt": attempts, "error": error},
            )
            return RunResult("failed", digest, period, run_id, round_, error)
        with self.db.transaction() as session:
            posted = store.mark_posted(session, run_id, round_, ref.channel, ref.ts, self.clock.now())
            if posted is not None and queue_charts and digest == WEEKLY:
                for name in CHART_NAMES:
                    enqueue(
                        session,
                        self.clock,
                        JOB_CHART,
                        {"run_id": run_id, "round": round_, "chart": name},
                        key=f"digest-chart:{run_id}:{round_}:{name}",
                    )
            if posted is not None and digest == WEEKLY and self._qa_admins:
                # Per analyst only to admins, each in a DM of its own, once per posted round.
                for admin in self.admins():
                    enqueue(
                        session,
                        self.clock,
                        JOB_QA_ADMIN,
                        {"period": period, "user": admin},
                        key=f"digest-qa:{run_id}:{round_}:{admin}",
                    )
        DIGESTS_POSTED.labels(digest=digest).inc()
        self.jobs.wake()
        return RunResult("posted", digest, period, run_id, round_, ts=ref.ts)

    def upload_charts(
        self, run_id: int, notifier: ReportNotifier, only: str | None = None
    ) -> list[ChartName]:
        """Upload the run's charts not uploaded yet, in its thread; returns the names uploaded."""
        with self.db.read() as session:
            run = store.run_by_id(session, run_id)
            if run is None or run.status != POSTED or not run.ts or not run.channel:
                raise PermanentJobError(f"digest run {run_id} is not posted")
            done, where = set(run.charts or []), MessageRef(run.channel, run.ts)
            period = self.period_of(run.digest, run.period)
        wanted = [n for n in CHART_NAMES if n not in done and (only is None or n == only)]
        if not wanted:
            return []
        with self.db.read() as session:
            data = chart_data(session, period)
        uploaded = []
        for name in wanted:
            notifier.upload_chart(where, period, self.renderer.render(name, data, period))
            with self.db.transaction() as session:
                store.add_uploaded_chart(session, run_id, name)
            uploaded.append(name)
        return uploaded

    def register_jobs(self, notifier: ReportNotifier, admins: QaAdminNotifier | None = None) -> None:
        def post(payload: dict[str, Any]) -> None:
            result = self.post(payload["digest"], payload["period"], int(payload["round"]), notifier)
            if result.outcome == "failed":
                # Recorded on the run; the next scheduler tick claims a new round.
                raise PermanentJobError(result.error or "digest post failed")

        def chart(payload: dict[str, Any]) -> None:
            self.upload_charts(int(payload["run_id"]), notifier, only=payload["chart"])

        def qa_admin(payload: dict[str, Any]) -> None:
            assert admins is not None
            period = self.period_of(WEEKLY, payload["period"])
            admins.qa_by_analyst(payload["user"], self.qa_by_analyst(period.start, period.end, period.label))

        self.jobs.register(JOB_POST, post)
        self.jobs.register(JOB_CHART, chart)
        if admins is not None:
            self.jobs.register(JOB_QA_ADMIN, qa_admin)
            self._qa_admins = True

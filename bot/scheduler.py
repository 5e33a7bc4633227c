"""Periodic work (APScheduler). Every replica runs the same schedule; each job calls a
workflow whose effects are guarded by uniqueness in the database, so a second replica's
run of the same tick does nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from commands.context import AppContext
from store.slack_events import prune_events
from workflows.metrics import ERRORS
from workflows.periods import last_full_week
from workflows.reports import REVIEW, SHIFT, WEEKLY
from workflows.signals.retention import SignalRetention

log = logging.getLogger(__name__)

# Capabilities add (name, trigger factory, job factory) entries here as they land.
ScheduledJob = tuple[str, Callable[[AppContext], BaseTrigger], Callable[[AppContext], Callable[[], None]]]


def _prune_seen_events(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        with ctx.db.transaction() as session:
            removed = prune_events(session, ctx.clock.now() - timedelta(days=7))
        log.info("pruned Slack event ids", extra={"removed": removed})

    return run


def _sla_check(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        report = ctx.cases.check_sla()
        if report.nudged or report.breached:
            log.info("SLA check", extra={"nudged": report.nudged, "breached": report.breached})

    return run


def _watch_playbooks(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        ctx.playbooks.reload_if_changed()

    return run


def _detect_anomalies(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        report = ctx.anomalies.detect()
        # Investigations opened this hour then compare against a ready population.
        ctx.signals.population()
        if report.found or report.suppressed:
            log.info(
                "anomalies detected",
                extra={
                    "hour": report.hour.isoformat(),
                    "found": [a.key for a in report.found],
                    "suppressed": [a.key for a in report.suppressed],
                },
            )

    return run


def _detect_patterns(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        ctx.patterns.schedule_detection()  # one run per hour, on whichever replica claims the job

    return run


def _signal_retention(ctx: AppContext) -> Callable[[], None]:
    retention = SignalRetention(ctx.db, ctx.clock, ctx.config)
    return retention.tick  # partitions ahead (PostgreSQL), then raw signals past retention


def _expire_requests(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        ctx.enforcer.expire_due()  # logs what it expired; an approval also expires on access

    return run


def _submit_statements(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        if ctx.decisions is not None:
            ctx.decisions.run_until_idle()  # a batch of 100 a call; due again after a failure's backoff

    return run


def _qa_sample(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        if ctx.qa is not None:
            yesterday = ctx.clock.now().astimezone(ctx.config.tz).date() - timedelta(days=1)
            ctx.qa.sample_day(yesterday)  # the same draw if it already ran: nothing twice

    return run


def _digests(*digests: str) -> Callable[[AppContext], Callable[[], None]]:
    """Claim the latest due period of each digest (once, whichever replica is first) and
    retry failed ones: the same call at the scheduled time, on the retry tick and at start."""

    def factory(ctx: AppContext) -> Callable[[], None]:
        def run() -> None:
            for result in ctx.reports.run_due(digests):
                if result.outcome not in ("exists", "busy", "before_first_start"):
                    log.info(
                        "digest run",
                        extra={"digest": result.digest, "period": result.period, "outcome": result.outcome},
                    )

        return run

    return factory


def _digest_trigger(ctx: AppContext) -> BaseTrigger:
    digest = ctx.config.digest
    return CronTrigger(
        day_of_week=digest.weekday, hour=digest.hour, minute=digest.minute, timezone=ctx.config.tz
    )


def _shift_trigger(ctx: AppContext) -> BaseTrigger:
    hour, minute = (int(x) for x in ctx.config.digest.shift_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ctx.config.tz)


def _poll_handoffs(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        if ctx.handoffs is not None:
            ctx.handoffs.poll()

    return run


def _publish_review(ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        if ctx.review_pages is not None:
            ctx.review_pages.publish(last_full_week(ctx.clock.now(), ctx.config.tz))

    return run


SCHEDULE: list[ScheduledJob] = [
    ("digest-weekly", _digest_trigger, _digests(WEEKLY, REVIEW)),
    ("shift-summary", _shift_trigger, _digests(SHIFT)),
    ("digest-retry", lambda ctx: IntervalTrigger(minutes=5), _digests(WEEKLY, REVIEW, SHIFT)),
    ("playbooks-watch", lambda ctx: IntervalTrigger(seconds=15), _watch_playbooks),
    ("sla-check", lambda ctx: IntervalTrigger(minutes=1), _sla_check),
    ("enforcement-expire", lambda ctx: IntervalTrigger(minutes=5), _expire_requests),
    ("review-publish", _digest_trigger, _publish_review),
    (
        "handoff-poll",
        lambda ctx: IntervalTrigger(seconds=ctx.config.handoff.poll_every.total_seconds()),
        _poll_handoffs,
    ),
    ("dsa-submit", lambda ctx: IntervalTrigger(minutes=1), _submit_statements),
    ("qa-sample", lambda ctx: CronTrigger(hour=6, minute=30, timezone=ctx.config.tz), _qa_sample),
    # A few minutes past the hour, so late signals of the hour just ended are counted.
    ("detect-anomalies", lambda ctx: CronTrigger(minute=5, timezone="UTC"), _detect_anomalies),
    ("detect-patterns", lambda ctx: CronTrigger(minute=20, timezone="UTC"), _detect_patterns),
    ("signals-retention", lambda ctx: CronTrigger(hour=2, minute=43, timezone="UTC"), _signal_retention),
    (
        "prune-slack-events",
        lambda ctx: CronTrigger(hour=3, minute=17, timezone=ctx.config.tz),
        _prune_seen_events,
    ),
]


def _guarded(name: str, func: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            func()
        except Exception:
            ERRORS.labels(where=f"scheduler:{name}").inc()
            log.exception("scheduled job failed", extra={"job": name})

    return run


def build_scheduler(ctx: AppContext) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=ctx.config.tz, job_defaults={"coalesce": True, "max_instances": 1}
    )
    for name, trigger, job in SCHEDULE:
        scheduler.add_job(_guarded(name, job(ctx)), trigger(ctx), id=name, name=name, misfire_grace_time=300)
    return scheduler

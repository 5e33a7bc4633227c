"""Assembles a running Vigil from settings and config: the one place parts are wired."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.notifier import SlackNotifier
from bot.slack_client import SlackGroupDirectory, make_client
from commands.context import AppContext
from commands.escalations import SlackCaseNotifier
from store.db import Database
from workflows.clock import Clock, SystemClock
from workflows.config import Settings, VigilConfig, secret
from workflows.escalations import Escalations
from workflows.jobs import JobRunner
from workflows.roles import RoleBook


def build_context(
    settings: Settings,
    config: VigilConfig,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
) -> tuple[AppContext, WebClient]:
    client = client or make_client(secret(settings.slack_bot_token), settings.slack_api_url)
    db = db or Database(settings.vigil_database_url)
    clock = clock or SystemClock()
    jobs = JobRunner(db, clock)
    escalations = Escalations(db, clock, config, wake=jobs.wake)
    escalations.register_jobs(jobs, SlackCaseNotifier(client, config, clock))
    ctx = AppContext(
        settings=settings,
        config=config,
        db=db,
        clock=clock,
        roles=RoleBook(config.roles, SlackGroupDirectory(client)),
        notifier=SlackNotifier(client),
        jobs=jobs,
        escalations=escalations,
    )
    return ctx, client

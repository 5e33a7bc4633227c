"""Assembles a running Vigil from settings and config: the one place parts are wired."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.enforcement_api import HttpEnforcementGateway
from bot.notifier import SlackNotifier
from bot.slack_client import SlackGroupDirectory, make_client
from commands.context import AppContext
from commands.enforcement import SlackEnforcementNotifier
from store.db import Database
from workflows.clock import Clock, SystemClock
from workflows.config import Settings, VigilConfig, secret
from workflows.enforcement import Enforcer, EnforcerOptions
from workflows.jobs import JobRunner
from workflows.roles import RoleBook


def build_context(
    settings: Settings,
    config: VigilConfig,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
    enforcer_options: EnforcerOptions | None = None,
) -> tuple[AppContext, WebClient]:
    client = client or make_client(secret(settings.slack_bot_token), settings.slack_api_url)
    db = db or Database(settings.vigil_database_url)
    clock = clock or SystemClock()
    enforcer_options = enforcer_options or EnforcerOptions()
    gateway = None
    if settings.vigil_enforcement_url:  # unset: manual mode, actions are handed to Engineering
        gateway = HttpEnforcementGateway(
            settings.vigil_enforcement_url,
            secret(settings.vigil_enforcement_token),
            timeout=enforcer_options.call_timeout,
            connections=config.enforcement.concurrency,
        )
    enforcer = Enforcer(
        db,
        clock,
        config.enforcement,
        SlackEnforcementNotifier(client, config.channels),
        gateway,
        enforcer_options,
    )
    ctx = AppContext(
        settings=settings,
        config=config,
        db=db,
        clock=clock,
        roles=RoleBook(config.roles, SlackGroupDirectory(client)),
        notifier=SlackNotifier(client),
        jobs=JobRunner(db, clock),
        enforcer=enforcer,
    )
    return ctx, client

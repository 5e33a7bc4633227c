"""Assembles a running Vigil from settings and config: the one place parts are wired."""

from __future__ import annotations

import contextlib

from slack_sdk import WebClient

from bot.enforcement_api import HttpEnforcementGateway
from bot.notifier import SlackNotifier
from bot.slack_client import SlackGroupDirectory, make_client
from commands.context import AppContext
from commands.enforcement import SlackEnforcementNotifier
from commands.escalations import SlackCaseNotifier
from commands.playbooks import SlackPlaybookAlerts
from commands.reports import SlackReportNotifier
from store.db import Database
from workflows.clock import Clock, SystemClock
from workflows.config import Settings, VigilConfig, secret
from workflows.enforcement import Enforcer, EnforcerOptions
from workflows.escalations import Escalations
from workflows.features import AccountFeatures
from workflows.jobs import JobRunner
from workflows.playbooks import CaseRules, PlaybookError, Playbooks
from workflows.playbooks import register_jobs as register_rule_jobs
from workflows.reports import NoAnomalyStats, NoInvestigationStats, NoPatterns, Reports, ReportSources
from workflows.roles import RoleBook


def build_context(
    settings: Settings,
    config: VigilConfig,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
    announce_reload_errors: bool = False,
    enforcer_options: EnforcerOptions | None = None,
) -> tuple[AppContext, WebClient]:
    client = client or make_client(secret(settings.slack_bot_token), settings.slack_api_url)
    db = db or Database(settings.vigil_database_url)
    clock = clock or SystemClock()
    jobs = JobRunner(db, clock)
    notifier = SlackNotifier(client)
    playbooks = Playbooks(
        config.playbooks, SlackPlaybookAlerts(client, config) if announce_reload_errors else None
    )
    with contextlib.suppress(PlaybookError):  # logged and told; built-in triage runs meanwhile
        playbooks.reload()
    features = AccountFeatures()
    escalations = Escalations(
        db, clock, config, wake=jobs.wake, rules=CaseRules(playbooks, features, clock, config)
    )
    escalations.register_jobs(jobs, SlackCaseNotifier(client, config, clock))
    register_rule_jobs(jobs, notifier)
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
    # Investigations, anomalies and AI patterns plug in here when those capabilities are wired.
    sources = ReportSources(
        investigations=NoInvestigationStats(), anomalies=NoAnomalyStats(), patterns=NoPatterns()
    )
    reports = Reports(db, clock, config, sources, wake=jobs.wake)
    reports.register_jobs(jobs, SlackReportNotifier(client, config))
    ctx = AppContext(
        settings=settings,
        config=config,
        db=db,
        clock=clock,
        roles=RoleBook(config.roles, SlackGroupDirectory(client)),
        notifier=notifier,
        jobs=jobs,
        escalations=escalations,
        playbooks=playbooks,
        features=features,
        enforcer=enforcer,
        reports=reports,
        investigation_stats=sources.investigations,
        anomaly_stats=sources.anomalies,
        abuse_patterns=sources.patterns,
    )
    return ctx, client

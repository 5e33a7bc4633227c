"""Assembles a running Vigil from settings and config: the one place parts are wired."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.enforcement_api import HttpEnforcementGateway
from bot.notifier import SlackNotifier
from bot.services import signal_services
from bot.slack_client import SlackGroupDirectory, make_client
from commands.anomalies import SlackAnomalyNotifier
from commands.cases import SlackCaseNotifier
from commands.context import AppContext
from commands.enforcement import SlackEnforcementNotifier, suspend_modal_opener
from commands.investigations import SlackInvestigationNotifier
from commands.playbooks import SlackPlaybookAlerts
from commands.reports import SlackReportNotifier
from store.db import Database
from workflows.anomalies import AnomalyWeekStats
from workflows.cases import Cases
from workflows.clock import Clock, SystemClock
from workflows.config import Settings, VigilConfig, secret
from workflows.enforcement import Enforcer, EnforcerOptions
from workflows.features import AccountFeatures
from workflows.investigations import (
    EnforcementHistory,
    Investigations,
    InvestigationWeekStats,
    LedgerEnforcementHistory,
    RuleMatches,
)
from workflows.jobs import JobRunner
from workflows.playbooks import (
    JOB_OPEN_INVESTIGATION,
    CaseRules,
    PlaybookError,
    PlaybookRuleMatches,
    Playbooks,
    RequestRules,
    SignalRules,
)
from workflows.playbooks import register_jobs as register_rule_jobs
from workflows.reports import NoPatterns, Reports, ReportSources
from workflows.roles import RoleBook
from workflows.signals import DefaultRuleHooks, RuleHooks


def build_context(
    settings: Settings,
    config: VigilConfig,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
    announce_reload_errors: bool = False,
    enforcer_options: EnforcerOptions | None = None,
    lease_clock: Clock | None = None,
) -> tuple[AppContext, WebClient]:
    """``clock`` is the business clock (SLA, digests, backoff); ``lease_clock`` the wall time
    that leases of background work are written in (tests inject both, separately)."""
    client = client or make_client(secret(settings.slack_bot_token), settings.slack_api_url)
    db = db or Database(settings.vigil_database_url)
    clock = clock or SystemClock()
    lease_clock = lease_clock or SystemClock()
    jobs = JobRunner(db, clock, lease_clock=lease_clock)
    notifier = SlackNotifier(client)
    playbooks = Playbooks(
        config.playbooks, SlackPlaybookAlerts(client, config) if announce_reload_errors else None
    )
    with contextlib.suppress(PlaybookError):  # logged and told; built-in triage runs meanwhile
        playbooks.reload()
    features = AccountFeatures()
    cases = Cases(
        db, clock, config, wake=jobs.wake, rules=CaseRules(playbooks, features, clock, config)
    )
    cases.register_jobs(jobs, SlackCaseNotifier(client, config, clock))
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
        rules=RequestRules(playbooks, features, clock, config),
        jobs=jobs,
        lease_clock=lease_clock,
    )
    # Playbooks run report.received / signal.ingested / anomaly.detected; investigations read
    # the enforcement ledger and the rule hits of the account.
    rule_hooks: RuleHooks = SignalRules(playbooks, features, clock, config, db, DefaultRuleHooks(db))
    enforcement_history: EnforcementHistory = LedgerEnforcementHistory(db)
    rule_matches: RuleMatches = PlaybookRuleMatches(db)
    signals, anomalies, investigations = signal_services(
        settings,
        config,
        db,
        clock,
        jobs=jobs,
        hooks=rule_hooks,
        history=enforcement_history,
        rules=rule_matches,
    )
    signals.register_jobs(jobs)
    anomalies.register_jobs(jobs, SlackAnomalyNotifier(client))
    investigations.register_jobs(jobs, SlackInvestigationNotifier(client))
    jobs.register(JOB_OPEN_INVESTIGATION, _rule_opens_investigation(investigations, config))
    # No AI capability yet: the digest's "top abuse patterns" section says so.
    sources = ReportSources(
        investigations=InvestigationWeekStats(), anomalies=AnomalyWeekStats(), patterns=NoPatterns()
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
        cases=cases,
        playbooks=playbooks,
        features=features,
        enforcer=enforcer,
        signals=signals,
        anomalies=anomalies,
        investigations=investigations,
        rule_hooks=rule_hooks,
        enforcement_history=enforcement_history,
        rule_matches=rule_matches,
        reports=reports,
        investigation_stats=sources.investigations,
        anomaly_stats=sources.anomalies,
        abuse_patterns=sources.patterns,
    )
    ctx.extras["open_suspend_modal"] = suspend_modal_opener(config.enforcement)
    return ctx, client


def _rule_opens_investigation(
    investigations: Investigations, config: VigilConfig
) -> Callable[[dict[str, Any]], None]:
    """A playbook's open_investigation action: opened in the alerts channel, by the rule."""

    def run(payload: dict[str, Any]) -> None:
        investigations.open(
            str(payload["account_id"]), f"rule:{payload['rule']}"[:32], channel=config.channels.alerts
        )

    return run

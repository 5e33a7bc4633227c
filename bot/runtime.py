"""Assembles a running Vigil from settings and config: the one place parts are wired."""

from __future__ import annotations

import contextlib

from slack_sdk import WebClient

from bot.charts import MatplotlibChartRenderer, anomaly_chart
from bot.notifier import SlackNotifier
from bot.services import (
    ai_assistant,
    jira_tracker,
    platform_gateway,
    review_pages,
    signal_services,
    transparency_database,
)
from bot.slack_client import SlackGroupDirectory, make_client
from commands.ai import SlackAiNotifier
from commands.anomalies import SlackAnomalyNotifier
from commands.cases import SlackCaseNotifier
from commands.context import AppContext
from commands.decisions import SlackAppealNotifier, SlackQaNotifier
from commands.enforcement import SlackEnforcementNotifier
from commands.handoff import SlackHandoffNotifier
from commands.investigations import SlackInvestigationNotifier
from commands.patterns import SlackPatternNotifier
from commands.playbooks import SlackPlaybookAlerts
from commands.reports import SlackReportNotifier
from store.db import Database
from workflows.ai.assistant import PatternLabels
from workflows.ai.digest import AiDigest
from workflows.anomalies import AnomalyWeekStats
from workflows.cases import Cases
from workflows.clock import Clock, SystemClock
from workflows.config import Settings, VigilConfig, secret
from workflows.coverage.digest import CoverageDigest
from workflows.decisions import Decisions
from workflows.decisions.appeals import Appeals
from workflows.decisions.notices import Notices
from workflows.decisions.qa import Qa
from workflows.enforcement import Enforcer, EnforcerOptions
from workflows.handoff import Handoffs
from workflows.handoff.digest import HandoffDigest
from workflows.investigations import (
    EnforcementHistory,
    InvestigationWeekStats,
    LedgerEnforcementHistory,
    NoProfiles,
    RuleMatches,
)
from workflows.jobs import JobRunner
from workflows.patterns import Patterns, RuleDrafts, TopPatterns, TopTermsLabeler
from workflows.patterns.ports import PatternLabeler
from workflows.playbooks import (
    AccountFeatures,
    PlaybookCaseRules,
    PlaybookError,
    PlaybookRequestRules,
    PlaybookRuleMatches,
    Playbooks,
    PlaybookSignalRules,
)
from workflows.playbooks import register_jobs as register_rule_jobs
from workflows.reports import Reports, ReportSources
from workflows.roles import RoleBook
from workflows.signals import NewestOpenCaseLinker


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
    # Every new case gets a triage suggestion (AI, or offline and said so), never applied.
    assistant = ai_assistant(settings, config, db, clock, jobs=jobs)
    assistant.register_jobs(jobs, SlackAiNotifier(client))
    cases = Cases(
        db,
        clock,
        config,
        jobs,
        rules=PlaybookCaseRules(playbooks, features, clock, config),
        suggestions=assistant,
    )
    cases.register_jobs(SlackCaseNotifier(client, config, clock))
    enforcer_options = enforcer_options or EnforcerOptions()
    # Unset: manual mode, actions are handed to Engineering and investigations show no profile.
    gateway = platform_gateway(
        settings, timeout=enforcer_options.call_timeout, connections=config.enforcement.concurrency
    )
    # Statements of reasons (only with a dsa: section; submitted only with VIGIL_DSA_URL and
    # dsa.submit) and appeals, which reinstatements can overturn through enforcement's hook.
    decisions = Decisions(db, clock, config, transparency_database(settings))
    appeals = Appeals(db, clock, config, cases, jobs, SlackAppealNotifier(client), gateway)
    appeals.register_jobs(jobs)
    decisions.appeals = appeals
    # Reporters told the decision on their report (Art. 16(5)), by the same platform endpoint.
    notices = Notices(db, clock, jobs, gateway)
    notices.register_jobs(jobs)
    decisions.notices = notices
    cases.decided = notices
    qa = Qa(db, clock, config, jobs, appeals)
    qa.register_jobs(jobs, SlackQaNotifier(client))
    enforcer = Enforcer(
        db,
        clock,
        config.enforcement,
        SlackEnforcementNotifier(client, config.channels),
        gateway,
        enforcer_options,
        rules=PlaybookRequestRules(playbooks, features, clock, config),
        jobs=jobs,
        lease_clock=lease_clock,
        decisions=decisions,
    )
    # Playbooks run report.received / signal.ingested / anomaly.detected; investigations read
    # the enforcement ledger and the rule hits of the account.
    rule_hooks = PlaybookSignalRules(playbooks, features, clock, config, db, NewestOpenCaseLinker(db))
    enforcement_history: EnforcementHistory = LedgerEnforcementHistory(db)
    rule_matches: RuleMatches = PlaybookRuleMatches(db)
    signals, anomalies, investigations = signal_services(
        settings,
        config,
        db,
        clock,
        jobs=jobs,
        hooks=rule_hooks,
        anomaly_hooks=rule_hooks,
        profiles=gateway or NoProfiles(),
        history=enforcement_history,
        rules=rule_matches,
    )
    signals.register_jobs(jobs)
    anomalies.register_jobs(jobs, SlackAnomalyNotifier(client, anomaly_chart))
    investigations.register_jobs(jobs, SlackInvestigationNotifier(client))
    register_rule_jobs(jobs, notifier, investigations, config.channels.alerts)
    labeler: PatternLabeler = TopTermsLabeler()
    if assistant.gateway.configured:  # a model names new patterns; offline, their top terms do
        labeler = PatternLabels(assistant, labeler)
    patterns = Patterns(db, clock, config, labeler, jobs=jobs, investigations=investigations)
    patterns.register_jobs(jobs, SlackPatternNotifier(client))
    rule_drafts = RuleDrafts(db, clock, config, features)
    sources = ReportSources(
        investigations=InvestigationWeekStats(),
        anomalies=AnomalyWeekStats(),
        patterns=TopPatterns(),
        assistant=AiDigest(assistant),
        coverage=CoverageDigest(config),
        handoffs=HandoffDigest(),
    )
    reports = Reports(db, clock, config, sources, jobs=jobs, renderer=MatplotlibChartRenderer())
    report_notifier = SlackReportNotifier(client, config)
    reports.register_jobs(report_notifier, admins=report_notifier)
    handoffs = Handoffs(db, clock, jobs, SlackHandoffNotifier(client, config), jira_tracker(settings, config))
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
        reports=reports,
        ai=assistant,
        patterns=patterns,
        rule_drafts=rule_drafts,
        handoffs=handoffs,
        review_pages=review_pages(settings, config, db, clock, reports),
        decisions=decisions,
        appeals=appeals,
        qa=qa,
    )
    return ctx, client

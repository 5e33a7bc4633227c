"""The Slack-free part of the composition root: the platform gateway, and signals, anomalies
and investigations wired to the store.

`vigil signals import`, `vigil investigate` and `vigil anomalies detect` (without a Slack
token) build only these, so they start without Slack, the rule engine or matplotlib;
bot/runtime.py builds the running Vigil on top of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.db import Database
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig, secret
from workflows.investigations import (
    AccountProfiles,
    EnforcementHistory,
    Investigations,
    NoEnforcementHistory,
    NoProfiles,
    NoRuleMatches,
    RuleMatches,
)
from workflows.jobs import JobRunner
from workflows.signals import NewestOpenCaseLinker, SignalRuleHook, Signals

if TYPE_CHECKING:
    from bot.gateways.jira import JiraTracker
    from bot.gateways.platform import HttpPlatformGateway
    from workflows.ai import Assistant, LanguageModel
    from workflows.anomalies import Anomalies, AnomalyRuleHook
    from workflows.decisions import TransparencyDatabase
    from workflows.handoff.publish import ReviewPages
    from workflows.reports import Reports


def platform_gateway(
    settings: Settings, *, timeout: float = 10.0, connections: int = 16
) -> HttpPlatformGateway | None:
    """The platform API, or None when it is not configured (manual mode, no profiles)."""
    if not settings.vigil_enforcement_url:
        return None
    # httpx loads only when a platform is configured: a CLI command without one starts faster.
    from bot.gateways.platform import HttpPlatformGateway

    return HttpPlatformGateway(
        settings.vigil_enforcement_url,
        secret(settings.vigil_enforcement_token),
        timeout=timeout,
        connections=connections,
    )


def jira_tracker(settings: Settings, config: VigilConfig) -> JiraTracker | None:
    """Jira for hand-offs, or None when it is not configured (they go to the engineering channel)."""
    token = settings.vigil_jira_token
    if not settings.vigil_jira_url or token is None:
        return None
    from bot.gateways.jira import JiraTracker

    return JiraTracker(settings.vigil_jira_url, token, config.handoff, email=settings.vigil_jira_email)


def review_pages(
    settings: Settings, config: VigilConfig, db: Database, clock: Clock, reports: Reports
) -> ReviewPages | None:
    """The weekly review in Confluence, or None when VIGIL_CONFLUENCE_URL (or the token) is unset."""
    token = settings.vigil_jira_token
    if not settings.vigil_confluence_url or token is None:
        return None
    from bot.gateways.confluence import ConfluencePublisher
    from workflows.handoff.publish import ReviewPages

    publisher = ConfluencePublisher(
        settings.vigil_confluence_url, token, config.handoff.confluence_space, email=settings.vigil_jira_email
    )
    return ReviewPages(db, clock, reports, publisher)


def investigation_services(
    settings: Settings,
    config: VigilConfig,
    db: Database,
    clock: Clock,
    *,
    jobs: JobRunner | None = None,
    hooks: SignalRuleHook | None = None,
    profiles: AccountProfiles | None = None,
    history: EnforcementHistory | None = None,
    rules: RuleMatches | None = None,
) -> tuple[Signals, Investigations]:
    """Signals and investigations, without anomalies: what `vigil investigate` reads."""
    jobs = jobs or JobRunner(db, clock)
    signals = Signals(db, clock, config, jobs=jobs, hooks=hooks or NewestOpenCaseLinker(db))
    investigations = Investigations(
        db,
        clock,
        config,
        signals,
        jobs=jobs,
        profiles=profiles or platform_gateway(settings) or NoProfiles(),
        history=history or NoEnforcementHistory(),
        rules=rules or NoRuleMatches(),
    )
    return signals, investigations


def signal_services(
    settings: Settings,
    config: VigilConfig,
    db: Database,
    clock: Clock,
    *,
    jobs: JobRunner | None = None,
    hooks: SignalRuleHook | None = None,
    anomaly_hooks: AnomalyRuleHook | None = None,
    profiles: AccountProfiles | None = None,
    history: EnforcementHistory | None = None,
    rules: RuleMatches | None = None,
) -> tuple[Signals, Anomalies, Investigations]:
    """Signals, anomalies and investigations (the CLI builds these without Slack). Without
    ``jobs`` this process runs no worker: what they queue waits for the running Vigil's."""
    # Loaded here: the detector, its incidents and their store are not what an
    # investigation reads, and `vigil investigate` builds only investigation_services().
    from workflows.anomalies import Anomalies, NoAnomalyRules

    jobs = jobs or JobRunner(db, clock)
    signals, investigations = investigation_services(
        settings, config, db, clock, jobs=jobs, hooks=hooks, profiles=profiles, history=history, rules=rules
    )
    anomalies = Anomalies(db, clock, config, anomaly_hooks or NoAnomalyRules(), jobs=jobs)
    return signals, anomalies, investigations


def ai_assistant(
    settings: Settings, config: VigilConfig, db: Database, clock: Clock, *, jobs: JobRunner | None = None
) -> Assistant:
    """The AI features; with no OPENAI_API_KEY they answer offline (extractive summaries,
    nearest-category suggestions, a narrative from the figures) and say so."""
    # Loaded here: commands that never ask the AI (investigate, anomalies) skip Jinja2.
    from workflows.ai import AiGateway, Assistant

    model: LanguageModel | None = None
    if settings.openai_api_key is not None:
        # openai loads only when a model is configured.
        from bot.gateways.openai import OpenAIModel

        model = OpenAIModel(secret(settings.openai_api_key) or "", settings.openai_base_url)
    gateway = AiGateway(
        db,
        clock,
        config.ai,
        model,
        default_model=settings.vigil_ai_model,
        account_pattern=config.enforcement.account_id_regex(),
    )
    return Assistant(db, clock, gateway, jobs=jobs)


def transparency_database(settings: Settings) -> TransparencyDatabase | None:
    """The DSA Transparency Database, or None when VIGIL_DSA_URL is unset (statements are kept)."""
    if not settings.vigil_dsa_url:
        return None
    from bot.gateways.dsa import HttpTransparencyDatabase

    return HttpTransparencyDatabase(settings.vigil_dsa_url, secret(settings.vigil_dsa_token))

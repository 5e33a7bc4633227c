"""The Slack-free part of the composition root: the platform gateway, and signals, anomalies
and investigations wired to the store.

`vigil signals import`, `vigil investigate` and `vigil anomalies detect` (without a Slack
token) build only these, so they start without Slack, the rule engine or matplotlib;
bot/runtime.py builds the running Vigil on top of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.db import Database
from workflows.anomalies import Anomalies, AnomalyRuleHook, NoAnomalyRules
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig, secret
from workflows.decisions import TransparencyDatabase
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
    from bot.gateways.platform import HttpPlatformGateway


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
    jobs = jobs or JobRunner(db, clock)
    signals = Signals(db, clock, config, jobs=jobs, hooks=hooks or NewestOpenCaseLinker(db))
    anomalies = Anomalies(db, clock, config, anomaly_hooks or NoAnomalyRules(), jobs=jobs)
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
    return signals, anomalies, investigations


def transparency_database(settings: Settings) -> TransparencyDatabase | None:
    """The DSA Transparency Database, or None when VIGIL_DSA_URL is unset (statements are kept)."""
    if not settings.vigil_dsa_url:
        return None
    from bot.gateways.dsa import HttpTransparencyDatabase

    return HttpTransparencyDatabase(settings.vigil_dsa_url, secret(settings.vigil_dsa_token))

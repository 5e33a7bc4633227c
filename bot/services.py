"""The Slack-free part of the composition root: signals, anomalies and investigations wired
to the store and the platform's account profiles.

`vigil signals import`, `vigil investigate` and `vigil anomalies detect` (without a Slack
token) build only these, so they start without Slack, the rule engine or matplotlib;
bot/runtime.py builds the running Vigil on top of them.
"""

from __future__ import annotations

from store.db import Database
from workflows.anomalies import Anomalies
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig, secret
from workflows.investigations import (
    AccountProfiles,
    EnforcementApiProfiles,
    EnforcementHistory,
    Investigations,
    NoEnforcementHistory,
    NoProfiles,
    NoRuleMatches,
    RuleMatches,
)
from workflows.jobs import JobRunner
from workflows.signals import DefaultRuleHooks, RuleHooks, Signals


def account_profiles(settings: Settings) -> AccountProfiles:
    if not settings.vigil_enforcement_url:
        return NoProfiles()
    return EnforcementApiProfiles(settings.vigil_enforcement_url, secret(settings.vigil_enforcement_token))


def signal_services(
    settings: Settings,
    config: VigilConfig,
    db: Database,
    clock: Clock,
    *,
    jobs: JobRunner | None = None,
    hooks: RuleHooks | None = None,
    history: EnforcementHistory | None = None,
    rules: RuleMatches | None = None,
) -> tuple[Signals, Anomalies, Investigations]:
    """Signals, anomalies and investigations (the CLI builds these without Slack)."""
    wake = jobs.wake if jobs else None
    signals = Signals(db, clock, config, hooks=hooks or DefaultRuleHooks(db), wake=wake)
    anomalies = Anomalies(db, clock, config, signals, wake=wake)
    investigations = Investigations(
        db,
        clock,
        config,
        signals,
        profiles=account_profiles(settings),
        history=history or NoEnforcementHistory(),
        rules=rules or NoRuleMatches(),
        wake=wake,
    )
    return signals, anomalies, investigations

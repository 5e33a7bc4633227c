"""What every adapter gets: the runtime's parts, assembled once by bot/runtime.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.db import Database
from workflows.anomalies import Anomalies
from workflows.cases import Cases
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig
from workflows.enforcement import Enforcer
from workflows.investigations import EnforcementHistory, Investigations, RuleMatches
from workflows.jobs import JobRunner
from workflows.playbooks import AccountFeatures, Playbooks
from workflows.ports import Notifier
from workflows.reports import AnomalyStats, InvestigationStats, PatternSource, Reports
from workflows.roles import RoleBook
from workflows.signals import SignalRuleHook, Signals


@dataclass
class AppContext:
    settings: Settings
    config: VigilConfig
    db: Database
    clock: Clock
    roles: RoleBook
    notifier: Notifier
    jobs: JobRunner
    cases: Cases
    playbooks: Playbooks
    features: AccountFeatures
    enforcer: Enforcer  # requests, decisions and the enforcement worker (manual mode without an API)
    signals: Signals
    anomalies: Anomalies
    investigations: Investigations
    # Ports the playbook and enforcement capabilities fill in (bot/runtime.py builds them
    # before the services that use them); the defaults do nothing / know nothing.
    rule_hooks: SignalRuleHook
    enforcement_history: EnforcementHistory
    rule_matches: RuleMatches
    reports: Reports  # digests, reviews, shift summaries, /vigil report, exports
    # What reports read from capabilities that may not be installed; the defaults say "no data".
    investigation_stats: InvestigationStats
    anomaly_stats: AnomalyStats
    abuse_patterns: PatternSource
    # Ports later capabilities add (enforcement gateway, LLM) hang here by name.
    extras: dict[str, Any] = field(default_factory=dict)

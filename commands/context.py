"""What every Slack adapter gets: the services it calls, assembled once by bot/runtime.py.

Only what listeners use lives here. Ports between capabilities (rule hooks, the enforcement
history investigations read, the report sources) are passed by the runtime to the services
that use them, never looked up through this object."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Database
from workflows.ai import Assistant
from workflows.anomalies import Anomalies
from workflows.cases import Cases
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig
from workflows.decisions import Decisions
from workflows.decisions.appeals import Appeals
from workflows.decisions.qa import Qa
from workflows.enforcement import Enforcer
from workflows.handoff import Handoffs
from workflows.handoff.publish import ReviewPages
from workflows.investigations import Investigations
from workflows.jobs import JobRunner
from workflows.patterns import Patterns, RuleDrafts
from workflows.playbooks import AccountFeatures, Playbooks
from workflows.ports import Notifier
from workflows.reports import Reports
from workflows.roles import RoleBook
from workflows.signals import Signals


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
    reports: Reports  # digests, reviews, shift summaries, /vigil report, exports
    patterns: Patterns  # abuse patterns (PAT-n): detection, naming, investigations, alerts
    rule_drafts: RuleDrafts  # rules drafted from patterns, backtested, saved by an admin
    ai: Assistant | None = None  # summaries and triage suggestions (offline without a model)
    handoffs: Handoffs | None = None  # Send to Engineering (Jira, or the engineering channel)
    review_pages: ReviewPages | None = None  # the weekly review in Confluence, when configured
    decisions: Decisions | None = None  # statements of reasons (DSA); None: not configured
    appeals: Appeals | None = None  # POST /api/v1/appeals and the appeal message's buttons
    qa: Qa | None = None  # the daily blind re-review of sampled decisions

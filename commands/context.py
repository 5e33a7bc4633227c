"""What every Slack adapter gets: the services it calls, assembled once by bot/runtime.py.

Only what listeners use lives here. Ports between capabilities (rule hooks, the enforcement
history investigations read, the report sources) are passed by the runtime to the services
that use them, never looked up through this object."""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Database
from workflows.anomalies import Anomalies
from workflows.cases import Cases
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig
from workflows.decisions import Decisions
from workflows.decisions.appeals import Appeals
from workflows.decisions.qa import Qa
from workflows.enforcement import Enforcer
from workflows.investigations import Investigations
from workflows.jobs import JobRunner
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
    decisions: Decisions | None = None  # statements of reasons (DSA); None: not configured
    appeals: Appeals | None = None  # POST /api/v1/appeals and the appeal message's buttons
    qa: Qa | None = None  # the daily blind re-review of sampled decisions

"""What every adapter gets: the runtime's parts, assembled once by bot/runtime.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.db import Database
from workflows.clock import Clock
from workflows.config import Settings, VigilConfig
from workflows.enforcement import Enforcer
from workflows.escalations import Escalations
from workflows.features import AccountFeatures
from workflows.jobs import JobRunner
from workflows.playbooks import Playbooks
from workflows.ports import Notifier
from workflows.roles import RoleBook


@dataclass
class AppContext:
    settings: Settings
    config: VigilConfig
    db: Database
    clock: Clock
    roles: RoleBook
    notifier: Notifier
    jobs: JobRunner
    escalations: Escalations
    playbooks: Playbooks
    features: AccountFeatures
    enforcer: Enforcer  # requests, decisions and the enforcement worker (manual mode without an API)
    # Ports later capabilities add (enforcement gateway, LLM) hang here by name.
    extras: dict[str, Any] = field(default_factory=dict)

"""Slack adapters: slash commands, shortcuts, actions, views. Parse → workflow → render."""

from __future__ import annotations

from slack_bolt import App

from commands import (
    anomalies,
    enforcement,
    escalations,
    home,
    investigations,
    playbooks,
    reports,
    vigil,
)
from commands.context import AppContext

__all__ = ["playbooks", "register", "reports"]  # these register /vigil subcommands on import


def register(app: App, ctx: AppContext) -> None:
    """Attach every listener. Order matters only for the catch-all in bot/app.py, which comes last."""
    vigil.register(app, ctx)
    escalations.register(app, ctx)
    anomalies.register(app, ctx)
    investigations.register(app, ctx)
    home.register(app, ctx)
    enforcement.register(app, ctx)

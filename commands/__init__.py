"""Slack adapters: slash commands, shortcuts, actions, views. Parse → workflow → render."""

from __future__ import annotations

from slack_bolt import App

from commands import (
    anomalies,
    cases,
    enforcement,
    events,
    home,
    investigations,
    playbooks,
    reports,
    vigil,
)
from commands.context import AppContext

# playbooks and reports register /vigil subcommands on import; cases and home register
# the Slack events they handle (commands/events.py).
__all__ = ["home", "playbooks", "register", "reports"]


def register(app: App, ctx: AppContext) -> None:
    """Attach every listener. Order matters only for the catch-all in bot/app.py, which comes last."""
    vigil.register(app, ctx)
    cases.register(app, ctx)
    anomalies.register(app, ctx)
    investigations.register(app, ctx)
    enforcement.register(app, ctx)
    events.register_jobs(ctx, app.client)

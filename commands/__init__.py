"""Slack adapters: slash commands, shortcuts, actions, views. Parse → workflow → render.

Importing this package (or a Block Kit module under it, as the CLI does to word a refusal)
loads no listener: ``register`` imports them, so only a running Bolt app pays for all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from commands.context import AppContext


def register(app: App, ctx: AppContext) -> None:
    """Attach every listener. Order matters only for the catch-all in bot/app.py, which comes last.

    playbooks and reports register /vigil subcommands on import; cases and home register the
    Slack events they handle (commands/events.py)."""
    from commands import (
        ai,
        anomalies,
        cases,
        coverage,  # noqa: F401 (registers /vigil coverage on import)
        decisions,
        enforcement,
        events,
        handoff,
        home,  # noqa: F401 (registers the App Home event on import)
        investigations,
        patterns,
        playbooks,  # noqa: F401 (registers /vigil rules on import)
        reports,  # noqa: F401 (registers /vigil report and digest on import)
        vigil,
    )

    vigil.register(app, ctx)
    cases.register(app, ctx)
    anomalies.register(app, ctx)
    investigations.register(app, ctx)
    patterns.register(app, ctx)
    enforcement.register(app, ctx)
    ai.register(app, ctx)
    handoff.register(app, ctx)
    decisions.register(app, ctx)
    events.register_jobs(ctx, app.client)

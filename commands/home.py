"""The App Home tab: my cases, my open investigations, the unclaimed queue, and what is close
to breaching SLA."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from commands.blocks import home as home_blocks
from commands.context import AppContext
from commands.listeners import timed


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    @timed("event:app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event["user"]
        roles = ctx.roles.roles_of(user)
        data = ctx.escalations.home(user) if roles else None
        mine = ctx.investigations.mine(user) if roles else []
        client.views_publish(user_id=user, view=home_blocks.home_view(roles, data, mine))

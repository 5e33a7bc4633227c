"""The App Home tab: my cases, my open investigations, the unclaimed queue, what is close
to breaching SLA, and my QA re-reviews."""

from __future__ import annotations

from commands.blocks import home as home_blocks
from commands.events import EventCall, on_event
from commands.listeners import timed


@on_event("app_home_opened")
@timed("event:app_home_opened")
def home_opened(call: EventCall) -> None:
    event, ctx = call.event, call.ctx
    if event.get("tab") not in (None, "home"):
        return
    user = event["user"]
    roles = ctx.roles.roles_of(user)
    data = ctx.cases.home(user) if roles else None
    mine = ctx.investigations.mine(user) if roles else []
    qa = ctx.qa.pending_for(user) if roles and ctx.qa is not None else []
    call.client.views_publish(user_id=user, view=home_blocks.home_view(roles, data, mine, qa))

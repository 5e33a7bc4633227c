"""The App Home view."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from commands.blocks.common import context, divider, header, section
from workflows.roles import Role


def home_view(roles: list[Role]) -> dict[str, Any]:
    you = ", ".join(r.name for r in roles) if roles else "no Vigil role yet"
    blocks = [
        header("Vigil"),
        section("Your T&S cases, the queue and what is close to breaching SLA show up here."),
        divider(),
        section("Type `/vigil help` in any channel to see what you can do."),
        context(f"You are: {you}."),
    ]
    return View(type="home", blocks=blocks).to_dict()

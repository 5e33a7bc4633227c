"""Blocks for /vigil help."""

from __future__ import annotations

from typing import Any

from commands.blocks.common import as_dicts, context, divider, escape, header, section
from workflows.roles import Role


def help_blocks(subcommands: list[Any], roles: list[Role]) -> list[dict[str, Any]]:
    lines = []
    for sub in sorted(subcommands, key=lambda s: s.usage):
        needs = f" _({sub.role.label})_" if sub.role else ""
        lines.append(f"`{escape(sub.usage)}` — {escape(sub.summary)}{needs}")
    you = ", ".join(r.name for r in roles) if roles else "no Vigil role yet"
    blocks = [
        header("Vigil"),
        section("Vigil tracks T&S escalations, enforcement requests and the weekly review, in Slack."),
        divider(),
        section("\n".join(lines)),
        context(f"You are: {you}."),
    ]
    return as_dicts(blocks)

"""Blocks for /vigil help."""

from __future__ import annotations

import functools
import json
from typing import Any

from commands.blocks.common import as_dicts, context, divider, escape, header, section
from workflows.roles import Role


def help_blocks(subcommands: list[Any], roles: list[Role]) -> list[dict[str, Any]]:
    # The same few answers over and over: building and checking slack_sdk's block models
    # cost more than the rest of the help's work together, on the listener's thread.
    listed = tuple(sorted(((sub.usage, sub.summary, sub.role) for sub in subcommands), key=lambda s: s[0]))
    return json.loads(_help_json(listed, tuple(roles)))


@functools.lru_cache(maxsize=64)
def _help_json(subcommands: tuple[tuple[str, str, Role | None], ...], roles: tuple[Role, ...]) -> str:
    lines = []
    for usage, summary, role in subcommands:
        needs = f" _({role.label})_" if role else ""
        lines.append(f"`{escape(usage)}` — {escape(summary)}{needs}")
    you = ", ".join(r.name for r in roles) if roles else "no Vigil role yet"
    blocks = [
        header("Vigil"),
        section("Vigil tracks T&S escalations, enforcement requests and the weekly review, in Slack."),
        divider(),
        section("\n".join(lines)),
        context(f"You are: {you}."),
    ]
    return json.dumps(as_dicts(blocks))

"""``/vigil``: the command for everything that is not /suspend or /reinstate.

Subcommands register themselves in SUBCOMMANDS with the role they need; the role is
checked by commands.access.require before any subcommand runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from commands.access import require
from commands.blocks import audit as audit_blocks
from commands.blocks import help as help_blocks
from commands.blocks.common import escape
from commands.context import AppContext
from commands.listeners import acks_at_once, timed
from workflows.audit import verify
from workflows.roles import Role


@dataclass(frozen=True)
class VigilCall:
    ctx: AppContext
    args: list[str]
    user_id: str
    channel_id: str
    respond: Respond
    client: WebClient


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    role: Role | None
    run: Callable[[VigilCall], None]
    roles_by_arg: dict[str, Role] | None = None


SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(
    name: str, usage: str, summary: str, role: Role | None, roles_by_arg: dict[str, Role] | None = None
) -> Callable[..., Any]:
    """Register ``/vigil NAME``; ``roles_by_arg`` raises the role for a second word (``rules reload``)."""

    def decorate(run: Callable[[VigilCall], None]) -> Callable[[VigilCall], None]:
        SUBCOMMANDS[name] = Subcommand(name, usage, summary, role, run, roles_by_arg)
        return run

    return decorate


def split_args(text: str) -> list[str]:
    try:
        return shlex.split(text or "")
    except ValueError:  # an unbalanced quote: fall back to plain words
        return (text or "").split()


def required_role(body: dict[str, Any]) -> Role | None:
    args = split_args(body.get("text", ""))
    sub = SUBCOMMANDS.get(args[0].lower()) if args else None
    if sub is None:
        return None
    if sub.roles_by_arg and len(args) > 1 and args[1].lower() in sub.roles_by_arg:
        return sub.roles_by_arg[args[1].lower()]
    return sub.role


@subcommand("help", "/vigil help", "what Vigil can do for you", role=None)
def _help(call: VigilCall) -> None:
    call.respond(
        blocks=help_blocks.help_blocks(list(SUBCOMMANDS.values()), call.ctx.roles.roles_of(call.user_id)),
        text="Vigil help",
        response_type="ephemeral",
    )


@subcommand("audit", "/vigil audit", "verify the hash-chained audit log", role=Role.admin)
def _audit(call: VigilCall) -> None:
    with call.ctx.db.read() as session:
        result = verify(session)
    call.respond(text=audit_blocks.verification_text(result), response_type="ephemeral")


def register(app: App, ctx: AppContext) -> None:
    @app.command("/vigil", middleware=[require(ctx.roles, required_role)])
    @acks_at_once
    @timed("command:/vigil")
    def vigil_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        args = split_args(body.get("text", ""))
        name = args[0].lower() if args else "help"
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            respond(
                text=f"I don't know `/vigil {escape(name)}`. Try `/vigil help`.",
                response_type="ephemeral",
            )
            return
        sub.run(
            VigilCall(
                ctx=ctx,
                args=args[1:],
                user_id=body["user_id"],
                channel_id=body.get("channel_id", ""),
                respond=respond,
                client=client,
            )
        )

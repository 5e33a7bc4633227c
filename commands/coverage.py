"""/vigil coverage: how confirmed abuse was first found, shown only to the person asking."""

from __future__ import annotations

from datetime import datetime

from commands.blocks import coverage as blocks
from commands.blocks.common import escape
from commands.vigil import VigilCall, subcommand
from workflows.coverage import BY_CHOICES, Coverage
from workflows.periods import local_midnight
from workflows.playbooks import parse_since
from workflows.roles import Role

USAGE = "/vigil coverage [30d | 2026-11-01] [category | source | pattern]"


def parse_args(args: list[str], now: datetime, call: VigilCall) -> tuple[datetime, str]:
    since: datetime | None = None
    by = "category"
    for arg in args:
        if arg.lower() in BY_CHOICES:
            by = arg.lower()
            continue
        if since is not None:
            raise ValueError("give one start")
        try:
            since = parse_since(arg, now)
        except ValueError:
            raise ValueError(
                f"I don't know `{escape(arg)}`: use 30d, 2w, an ISO date or category/source/pattern"
            ) from None
        if len(arg) == 10:
            since = local_midnight(since.date(), call.ctx.config.tz)
        if since >= now:
            raise ValueError("the start is in the future")
    return since or parse_since("30d", now), by


@subcommand("coverage", USAGE, "how confirmed abuse was first found, and the weak points", Role.analyst)
def _coverage(call: VigilCall) -> None:
    ctx = call.ctx
    now = ctx.clock.now()
    try:
        since, by = parse_args(call.args, now, call)
    except ValueError as exc:
        call.respond(text=f":warning: {exc}. Usage: `{USAGE}`", response_type="ephemeral")
        return
    report = Coverage(ctx.db, ctx.config, ctx.clock).report(since, now, by)  # type: ignore[arg-type]
    text, shown = blocks.coverage_blocks(report, ctx.config.timezone)
    call.respond(text=text, blocks=shown, response_type="ephemeral")

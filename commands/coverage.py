"""/vigil coverage: how confirmed abuse was first found, shown only to the person asking."""

from __future__ import annotations

import re
from datetime import datetime

from commands.blocks import coverage as blocks
from commands.blocks.common import escape
from commands.vigil import VigilCall, subcommand
from workflows.coverage import BY_CHOICES, Coverage
from workflows.periods import local_midnight
from workflows.playbooks import PlaybookError, load_rules, parse_since
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
    service = Coverage(ctx.db, ctx.config, ctx.clock)
    report = service.report(since, now, by)  # type: ignore[arg-type]
    text, shown = blocks.coverage_blocks(report, ctx.config.timezone, service.recommendations(report))
    call.respond(text=text, blocks=shown, response_type="ephemeral")


BACKTEST_USAGE = (
    "/vigil backtest FOLDER [30d]  (FOLDER: a folder next to the playbooks folder, e.g. candidate)"
)
_FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@subcommand("backtest", BACKTEST_USAGE, "the live playbooks and a candidate folder side by side", Role.admin)
def _backtest(call: VigilCall) -> None:
    ctx = call.ctx
    now = ctx.clock.now()
    live = ctx.config.playbooks
    if not call.args or len(call.args) > 2 or not _FOLDER_NAME.match(call.args[0]) or ".." in call.args[0]:
        call.respond(
            text=f":warning: name one candidate folder. Usage: `{BACKTEST_USAGE}`", response_type="ephemeral"
        )
        return
    # Only a sibling of the playbooks folder, by name: Slack never names a path on the server.
    candidate = live.resolve().parent / call.args[0]
    if not candidate.is_dir() or candidate == live.resolve():
        call.respond(
            text=f":warning: no candidate folder `{escape(call.args[0])}` next to the playbooks folder. "
            f"Usage: `{BACKTEST_USAGE}`",
            response_type="ephemeral",
        )
        return
    try:
        since = parse_since(call.args[1], now) if len(call.args) == 2 else parse_since("30d", now)
        current, other = load_rules(live), load_rules(candidate)
    except ValueError as exc:
        call.respond(
            text=f":warning: {escape(str(exc))}. Usage: `{BACKTEST_USAGE}`", response_type="ephemeral"
        )
        return
    except PlaybookError as exc:
        problems = "; ".join(exc.problems[:3])
        call.respond(
            text=f":warning: `{escape(call.args[0])}` does not load: {escape(problems)}",
            response_type="ephemeral",
        )
        return
    text, shown = blocks.comparison_blocks(
        Coverage(ctx.db, ctx.config, ctx.clock).compare(current, other, since, now)
    )
    call.respond(text=text, blocks=shown, response_type="ephemeral")

"""The Slack side of reports: /vigil report, /vigil digest preview, and the notifier that
posts the digest, the investigation review and the shift summary, with charts in the thread."""

from __future__ import annotations

from slack_sdk import WebClient

from commands.blocks import qa as qa_blocks
from commands.blocks import reports as blocks
from commands.blocks.common import escape
from commands.vigil import VigilCall, subcommand
from workflows.cases import CATEGORIES
from workflows.config import VigilConfig
from workflows.periods import Period, PeriodError, current_month, current_week, last_full_week, parse_period
from workflows.ports import MessageRef
from workflows.reports import Chart, QaAdminNotifier, QaAnalystWeek, Report, ReportNotifier
from workflows.roles import Role

REPORT_USAGE = "/vigil report [week|month|2026-W46] [category]"
DIGEST_USAGE = "/vigil digest preview [2026-W46]"


class SlackReportNotifier(ReportNotifier, QaAdminNotifier):
    def __init__(self, client: WebClient, config: VigilConfig) -> None:
        self.client = client
        self.config = config

    def post_report(self, report: Report) -> MessageRef:
        text, report_blocks = blocks.report_blocks(report)
        response = self.client.chat_postMessage(
            channel=self.config.channels.digest, text=text, blocks=report_blocks, unfurl_links=False
        )
        return MessageRef(channel=response["channel"], ts=response["ts"])

    def qa_by_analyst(self, user: str, week: QaAnalystWeek) -> None:
        """A DM to one admin: the per-analyst table never goes to a channel."""
        text, dm = qa_blocks.qa_admin_blocks(week)
        self.client.chat_postMessage(channel=user, text=text, blocks=dm, unfurl_links=False)

    def upload_chart(self, where: MessageRef, period: Period, chart: Chart) -> None:
        self.client.files_upload_v2(
            channel=where.channel,
            thread_ts=where.ts,
            content=chart.png,
            filename=f"vigil-{period.name}-{chart.name}.png",
            title=chart.title,
        )


def parse_report_args(args: list[str], call: VigilCall) -> tuple[Period, str | None]:
    """``[week|month|2026-W46|2026-11] [category]`` in either order; ValueError says what to type."""
    now, tz = call.ctx.clock.now(), call.ctx.config.tz
    period: Period | None = None
    category: str | None = None
    for arg in args:
        word = arg.lower()
        if word in ("week", "month"):
            if period is not None:
                raise ValueError("give one period")
            period = current_week(now, tz) if word == "week" else current_month(now, tz)
        elif word in CATEGORIES:
            if category is not None:
                raise ValueError("give one category")
            category = word
        elif word[:1].isdigit():
            if period is not None:
                raise ValueError("give one period")
            period = parse_period(arg, now, tz)
            if period.kind == "day":
                raise ValueError("reports are per week or month")
        else:
            raise ValueError(
                f"I don't know `{escape(arg)}`: use week, month, an ISO week like 2026-W46, or a category "
                f"({', '.join(CATEGORIES)})"
            )
    return period or current_week(now, tz), category


def _error(call: VigilCall, message: str, usage: str) -> None:
    call.respond(text=f":warning: {message}. Usage: `{usage}`", response_type="ephemeral")


@subcommand("report", REPORT_USAGE, "volumes, SLA, backlog and enforcement for a week or month", Role.analyst)
def _report(call: VigilCall) -> None:
    try:
        period, category = parse_report_args(call.args, call)
    except (PeriodError, ValueError) as exc:
        _error(call, str(exc), REPORT_USAGE)
        return
    text, summary = blocks.summary_blocks(call.ctx.reports.summary(period, category))
    call.respond(text=text, blocks=summary, response_type="ephemeral")


@subcommand("digest", DIGEST_USAGE, "the weekly digest as it will be posted (only to you)", Role.analyst)
def _digest(call: VigilCall) -> None:
    if call.args[:1] != ["preview"] or len(call.args) > 2:
        _error(call, "only `preview` is available in Slack (`vigil digest send` posts it)", DIGEST_USAGE)
        return
    ctx = call.ctx
    try:
        if len(call.args) == 2:
            period = parse_period(call.args[1], ctx.clock.now(), ctx.config.tz)
            if period.kind != "week":
                raise PeriodError("the digest is per ISO week, like 2026-W46")
        else:
            period = last_full_week(ctx.clock.now(), ctx.config.tz)
    except PeriodError as exc:
        _error(call, str(exc), DIGEST_USAGE)
        return
    text, digest = blocks.digest_blocks(ctx.reports.digest(period))
    call.respond(text=text, blocks=digest, response_type="ephemeral")

"""The Slack side of AI assistance: the Summarise buttons (case card, investigation),
``/vigil summarize CASE-n``, and posting summaries in their thread. The work runs after the
ack, as a job (workflows/ai)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from commands.access import require
from commands.blocks import ai as blocks
from commands.blocks.common import escape
from commands.context import AppContext
from commands.listeners import tell, timed
from commands.vigil import VigilCall, subcommand
from workflows.ai import AiNotifier, SummaryView
from workflows.cases import parse_case_ref
from workflows.roles import Role

SUMMARIZE_ACTION = "ai_summarize"
USAGE = "Usage: `/vigil summarize CASE-12` (or `INV-3`)."


class SlackAiNotifier(AiNotifier):
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_summary(self, channel: str, thread_ts: str, view: SummaryView) -> None:
        self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=blocks.summary_text(view),
            blocks=blocks.summary_blocks(view),
            unfurl_links=False,
        )


def _subject(ctx: AppContext, ref: str) -> tuple[str, int] | None:
    """("case", id) or ("investigation", id) for a ref that exists."""
    case_id = parse_case_ref(ref)
    if case_id is not None and ctx.cases.get(case_id, with_events=False) is not None:
        return "case", case_id
    upper = ref.strip().upper()
    if upper.startswith("INV-") and upper[4:].isdigit():
        inv_id = int(upper[4:])
        if ctx.investigations.get(inv_id, with_events=False) is not None:
            return "investigation", inv_id
    return None


@subcommand(
    "summarize",
    "/vigil summarize CASE-ID",
    "a summary of a case or investigation in its thread (AI-written, or extractive offline)",
    role=Role.analyst,
)
def _summarize(call: VigilCall) -> None:
    if not call.args:
        call.respond(text=USAGE, response_type="ephemeral")
        return
    if call.ctx.ai is None:
        call.respond(text="Summaries are not set up in this Vigil.", response_type="ephemeral")
        return
    subject = _subject(call.ctx, call.args[0])
    if subject is None:
        call.respond(
            text=f"No case or investigation {escape(call.args[0])}. {USAGE}", response_type="ephemeral"
        )
        return
    call.ctx.ai.summarize_later(*subject)
    call.respond(text=blocks.summarize_reply(call.args[0].upper()), response_type="ephemeral")


def register(app: App, ctx: AppContext) -> None:
    analyst = [require(ctx.roles, Role.analyst)]

    @app.action(SUMMARIZE_ACTION, middleware=analyst)
    @timed("action:ai_summarize")
    def summarize_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        kind, _, raw = str(action.get("value", "")).partition(":")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        user = body["user"]["id"]
        if ctx.ai is None or kind not in ("case", "investigation") or not raw.isdigit():
            tell(client, channel, user, "That summary cannot be made.")
            return
        ctx.ai.summarize_later(kind, int(raw))
        prefix = "CASE" if kind == "case" else "INV"
        tell(client, channel, user, blocks.summarize_reply(f"{prefix}-{raw}"))

"""The Slack side of the hand-off to Engineering: the Send to Engineering button opens the
requirement modal; submitting keeps it and queues its delivery (Jira or the channel)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import handoff as blocks
from commands.blocks.common import escape
from commands.context import AppContext
from commands.listeners import tell, timed
from commands.vigil import VigilCall, subcommand
from workflows.config import VigilConfig
from workflows.handoff import HandoffView, Requirement
from workflows.ports import MessageRef
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackHandoffNotifier:
    def __init__(self, client: WebClient, config: VigilConfig) -> None:
        self.client = client
        self.config = config

    def post_requirement(self, handoff: HandoffView) -> MessageRef:
        text, shown = blocks.requirement_post(handoff)
        answer = self.client.chat_postMessage(
            channel=self.config.channels.engineering, text=text, blocks=shown
        )
        return MessageRef(channel=str(answer["channel"]), ts=str(answer["ts"]))

    def tell(self, channel: str, thread_ts: str | None, text: str) -> None:
        self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=escape(text))


def _where(body: dict[str, Any]) -> dict[str, str | None]:
    """The thread the button was in (an ephemeral message has none: the person is told)."""
    container = body.get("container") or {}
    if container.get("is_ephemeral") or not container.get("message_ts"):
        return {"channel": None, "thread_ts": None}
    message = body.get("message") or {}
    return {
        "channel": container.get("channel_id"),
        "thread_ts": message.get("thread_ts") or container["message_ts"],
    }


def register(app: App, ctx: AppContext) -> None:
    analyst = [require(ctx.roles, Role.analyst)]

    @app.action(blocks.ACTION, middleware=analyst)
    @timed("action:handoff_open")
    def open_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            subject_type, ref = str(value["type"]), str(value["ref"])
        except (ValueError, KeyError, TypeError):
            return
        prefill = {
            "title": f"{ref}: ",
            "problem": str(value.get("problem") or ""),
            "evidence": ref,
        }
        try:
            client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.requirement_modal(subject_type, ref, prefill, _where(body)),
            )
        except SlackApiError as exc:
            log.warning("could not open the hand-off modal", extra={"error": exc.response.get("error")})

    @app.view(blocks.CALLBACK, middleware=analyst)
    @timed("view:handoff_submit")
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        meta = json.loads(view.get("private_metadata") or "{}")

        def text(block: str) -> str:
            return str(((values.get(block) or {}).get(block) or {}).get("value") or "")

        priority = ((values.get("priority") or {}).get("priority") or {}).get("selected_option") or {}
        try:
            requirement = Requirement(
                subject_type=meta.get("type"),
                subject_ref=meta.get("ref"),
                title=text("title"),
                problem=text("problem"),
                evidence=text("evidence"),
                impact=text("impact"),
                mitigation=text("mitigation"),
                priority=priority.get("value") or "P3",
            )
        except ValidationError as exc:
            errors = {
                str(e["loc"][0]): e["msg"]
                for e in exc.errors()
                if e["loc"]
                and e["loc"][0] in ("title", "problem", "evidence", "impact", "mitigation", "priority")
            }
            ack(response_action="errors", errors=errors or {"problem": "This requirement cannot be sent."})
            return
        ack()
        user = body["user"]["id"]
        if ctx.handoffs is None:
            return
        handoff = ctx.handoffs.send(requirement, user, meta.get("channel"), meta.get("thread_ts"))
        if meta.get("channel"):
            tell(client, meta["channel"], user, f"{handoff.ref} is on its way to Engineering.")


@subcommand(
    "handoffs",
    "/vigil handoffs [CASE-n | INV-n | PAT-n]",
    "hand-offs to Engineering and their tickets",
    Role.analyst,
)
def _handoffs(call: VigilCall) -> None:
    handoffs = call.ctx.handoffs
    if handoffs is None:
        call.respond(text="The hand-off to Engineering is not set up here.", response_type="ephemeral")
        return
    about = call.args[0] if call.args else None
    if about and re.fullmatch(r"(case|inv|pat|req)-\d+", about, re.IGNORECASE):
        about = about.upper()
    found = handoffs.about(about) if about else handoffs.open_by_age()
    call.respond(text=blocks.handoffs_text(found, about), response_type="ephemeral")

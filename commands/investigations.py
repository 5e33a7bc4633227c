"""The Slack side of investigations: /vigil investigate, the dossier message, the outcome
modal and the way to a /suspend request."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import investigations as blocks
from commands.context import AppContext
from commands.enforcement import suspend_modal_opener
from commands.listeners import tell, timed
from commands.vigil import VigilCall, subcommand
from workflows.investigations import (
    Dossier,
    InvestigationNotifier,
    InvestigationResult,
    InvestigationView,
    evidence_for,
)
from workflows.roles import Role

log = logging.getLogger(__name__)

# Where Vigil cannot post (not invited, an archived channel), the investigation goes to
# the analyst's DM instead of nowhere.
UNREACHABLE_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


class SlackInvestigationNotifier(InvestigationNotifier):
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_investigation(self, investigation: InvestigationView, dossier: Dossier) -> tuple[str, str]:
        kwargs = {
            "text": blocks.investigation_text(investigation),
            "blocks": blocks.investigation_blocks(investigation, dossier),
            "unfurl_links": False,
        }
        channel = investigation.channel or investigation.opened_by
        try:
            response = self.client.chat_postMessage(
                channel=channel, thread_ts=investigation.thread_ts, **kwargs
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in UNREACHABLE_CHANNEL:
                raise
            log.info(
                "investigation channel unreachable; sending it to the analyst", extra={"channel": channel}
            )
            response = self.client.chat_postMessage(channel=investigation.opened_by, **kwargs)
        return response["channel"], response["ts"]

    def update_investigation(self, investigation: InvestigationView, dossier: Dossier) -> None:
        self.client.chat_update(
            channel=investigation.channel,
            ts=investigation.message_ts,
            text=blocks.investigation_text(investigation),
            blocks=blocks.investigation_blocks(investigation, dossier),
        )

    def post_outcome(self, investigation: InvestigationView) -> None:
        self.client.chat_postMessage(
            channel=investigation.channel,
            thread_ts=investigation.message_ts,
            text=blocks.outcome_thread_text(investigation),
            unfurl_links=False,
        )


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


@subcommand(
    "investigate",
    "/vigil investigate ACCOUNT",
    "open an investigation: profile, timeline, velocity, linked accounts",
    role=Role.analyst,
)
def _investigate(call: VigilCall) -> None:
    if not call.args:
        call.respond(text="Usage: `/vigil investigate ACCOUNT`.", response_type="ephemeral")
        return
    account = call.args[0]
    investigations = call.ctx.investigations
    result = investigations.open(account, call.user_id, channel=call.channel_id)
    if result.outcome == "exists" and result.investigation is not None:
        inv = result.investigation
        call.respond(
            text=blocks.reply_for(result, account),
            blocks=blocks.investigation_blocks(inv, investigations.dossier(inv.account_id)),
            response_type="ephemeral",
        )
        return
    call.respond(text=blocks.reply_for(result, account), response_type="ephemeral")


def register(app: App, ctx: AppContext) -> None:
    investigations = ctx.investigations
    analyst = [require(ctx.roles, Role.analyst)]
    open_suspend_modal = suspend_modal_opener(ctx.config.enforcement, facts=ctx.config.dsa is not None)

    @app.action("investigation_outcome", middleware=analyst)
    @timed("action:investigation_outcome")
    def outcome_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        inv = investigations.get(int(action["value"]), with_events=False)
        user, channel = body["user"]["id"], _channel(body)
        if inv is None or not inv.is_open:
            result = InvestigationResult("already_closed" if inv else "not_found", inv)
            tell(client, channel, user, blocks.reply_for(result))
            return
        client.views_open(trigger_id=body["trigger_id"], view=blocks.outcome_modal(inv, channel))

    @app.view("investigation_outcome", middleware=analyst)
    @timed("view:investigation_outcome")
    def outcome_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        chosen = ((values.get("outcome") or {}).get("outcome") or {}).get("selected_option") or {}
        if chosen.get("value") not in blocks.OUTCOMES:
            ack(response_action="errors", errors={"outcome": "Pick an outcome."})
            return
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        findings = ((values.get("findings") or {}).get("findings") or {}).get("value")
        user = body["user"]["id"]
        result = investigations.record_outcome(int(meta["investigation_id"]), user, chosen["value"], findings)
        if result.outcome != "closed" and meta.get("channel"):
            tell(client, meta["channel"], user, blocks.reply_for(result))

    @app.action("investigation_suspend", middleware=analyst)
    @timed("action:investigation_suspend")
    def suspend_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        inv = investigations.get(int(action["value"]), with_events=False)
        if inv is None:
            tell(client, channel, user, "That investigation does not exist.")
            return
        investigations.note_suspension_request(inv.id, user)
        evidence = evidence_for(inv)
        try:
            open_suspend_modal(client, body["trigger_id"], [inv.account_id], None, evidence)
            return
        except SlackApiError as exc:  # e.g. the trigger expired: say what to paste instead
            log.warning("could not open the /suspend modal", extra={"error": exc.response.get("error")})
        tell(client, channel, user, blocks.suspend_hint(inv, evidence))

"""The Slack side of abuse patterns: the alert and its buttons (Name it, Open investigation,
Draft a rule, Not abuse), and an admin's Save of a drafted rule."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from commands.access import require
from commands.blocks import patterns as blocks
from commands.context import AppContext
from commands.listeners import tell, timed
from workflows.patterns import ActionResult, PatternNotifier, PatternView
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackPatternNotifier(PatternNotifier):
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_alert(self, pattern: PatternView, channel: str) -> str:
        response = self.client.chat_postMessage(
            channel=channel,
            text=blocks.alert_text(pattern),
            blocks=blocks.alert_blocks(pattern),
            unfurl_links=False,
            unfurl_media=False,
        )
        return response["ts"]

    def update_alert(self, pattern: PatternView) -> None:
        if not (pattern.channel and pattern.message_ts):
            return
        self.client.chat_update(
            channel=pattern.channel,
            ts=pattern.message_ts,
            text=blocks.alert_text(pattern),
            blocks=blocks.alert_blocks(pattern),
        )


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


def _id(action: dict[str, Any]) -> int | None:
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() else None


def register(app: App, ctx: AppContext) -> None:
    patterns, drafts, roles = ctx.patterns, ctx.rule_drafts, ctx.roles
    analyst = [require(roles, Role.analyst)]
    admin = [require(roles, Role.admin)]

    @app.action("pattern_name", middleware=analyst)
    @timed("action:pattern_name")
    def name_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        pattern_id = _id(action)
        pattern = patterns.get(pattern_id) if pattern_id else None
        if pattern is None:
            tell(client, channel, user, blocks.reply_for(ActionResult("not_found"), "name"))
            return
        client.views_open(trigger_id=body["trigger_id"], view=blocks.name_modal(pattern, channel))

    @app.view("pattern_name", middleware=analyst)
    @timed("view:pattern_name")
    def name_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        name = str(((values.get("name") or {}).get("name") or {}).get("value") or "")
        meta = json.loads(view.get("private_metadata") or "{}")
        user = body["user"]["id"]
        result = patterns.name(int(meta.get("pattern_id") or 0), name, user)
        if result.outcome == "refused":
            ack(response_action="errors", errors={"name": f"Give it a name: {result.detail}."})
            return
        ack()
        if meta.get("channel"):
            tell(client, meta["channel"], user, blocks.reply_for(result, "name"))

    @app.action("pattern_investigate", middleware=analyst)
    @timed("action:pattern_investigate")
    def investigate(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        pattern_id = _id(action)
        result = (
            patterns.open_investigation(pattern_id, user, channel)
            if pattern_id
            else ActionResult("not_found")
        )
        if result.outcome == "done":
            return  # the investigation card itself is the answer, in the alert's thread
        tell(client, channel, user, blocks.reply_for(result, "investigate"))

    @app.action("pattern_not_abuse", middleware=analyst)
    @timed("action:pattern_not_abuse")
    def not_abuse(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        pattern_id = _id(action)
        result = patterns.not_abuse(pattern_id, user) if pattern_id else ActionResult("not_found")
        tell(client, channel, user, blocks.reply_for(result, "not_abuse"))

    @app.action("pattern_draft_rule", middleware=analyst)
    @timed("action:pattern_draft_rule")
    def draft_rule(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        pattern_id = _id(action)
        pattern = patterns.get(pattern_id) if pattern_id else None
        if pattern is None:
            tell(client, channel, user, blocks.reply_for(ActionResult("not_found"), "draft"))
            return
        draft = drafts.draft(pattern.id, user)
        if isinstance(draft, ActionResult):
            tell(client, channel, user, blocks.reply_for(draft, "draft"))
            return
        client.chat_postMessage(
            channel=pattern.channel or channel,
            thread_ts=pattern.message_ts,
            text=blocks.draft_text(pattern, draft),
            blocks=blocks.draft_blocks(pattern, draft, can_save=True),
            unfurl_links=False,
        )

    @app.action("pattern_save_rule", middleware=admin)
    @timed("action:pattern_save_rule")
    def save_rule(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        draft_id = _id(action)
        outcome, draft = drafts.save(draft_id, user) if draft_id else ("not_found", None)
        tell(client, channel, user, blocks.save_reply(outcome, draft))

"""The Bolt listeners of enforcement: commands, buttons and modal submissions."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import enforcement as blocks
from commands.blocks.common import section
from commands.context import AppContext
from commands.enforcement.files import max_file_bytes
from commands.enforcement.forms import (
    DRAFT_GONE,
    DRAFT_KIND,
    _value,
    conflict_errors,
    draft_from_view,
    prefill,
    request_view,
)
from commands.listeners import timed
from commands.vigil import VigilCall, subcommand
from workflows.drafts import Drafts
from workflows.enforcement import (
    OpenRequestConflict,
    Refused,
    account_history,
    check_draft,
)
from workflows.roles import Role

log = logging.getLogger(__name__)


def _tell(client: WebClient, body: dict[str, Any], text: str, channel: str | None = None) -> None:
    """A private note to the person who clicked, where they clicked."""
    user = body["user"]["id"]
    channel = channel or (body.get("channel") or {}).get("id")
    channel = channel or (body.get("container") or {}).get("channel_id")
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell the user", extra={"error": exc.response.get("error")})


def _request_id(body: dict[str, Any]) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, ValueError):
        return None


@subcommand("account", "/vigil account ID", "an account's enforcement history", role=Role.analyst)
def _account(call: VigilCall) -> None:
    if not call.args:
        call.respond(text="Usage: `/vigil account ID`", response_type="ephemeral")
        return
    account_id = call.args[0]
    with call.ctx.db.read() as session:
        entries = account_history(session, account_id)
    statements = call.ctx.decisions.of_account(account_id) if call.ctx.decisions is not None else None
    call.respond(
        text=f"Enforcement history of {account_id}",
        blocks=blocks.history(account_id, entries, statements),
        response_type="ephemeral",
    )


def register(app: App, ctx: AppContext) -> None:
    analyst = require(ctx.roles, Role.analyst)
    approver = require(ctx.roles, Role.approver)
    config = ctx.config.enforcement
    enforcer = ctx.enforcer
    files_url, max_bytes = ctx.settings.slack_files_url, max_file_bytes(config.bulk_max)

    drafts = Drafts(ctx.db, ctx.clock)
    facts = ctx.config.dsa is not None  # the suspend modal asks for the statement's facts

    def opener(action: str) -> Any:
        def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()  # then open at once: the trigger_id lives three seconds; nothing is looked up first
            fields = prefill(body.get("text", ""), config)
            client.views_open(
                trigger_id=body["trigger_id"],
                view=request_view(
                    action, config, drafts, body["user_id"], body.get("channel_id"), facts=facts, **fields
                ),
            )

        return open_modal

    app.command("/suspend", middleware=[analyst])(timed("command:/suspend")(opener("suspend")))
    app.command("/reinstate", middleware=[analyst])(timed("command:/reinstate")(opener("reinstate")))

    @app.view(blocks.REQUEST_CALLBACK, middleware=[analyst])
    @timed("view:enforcement_request")
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user = body["user"]["id"]
        draft_id = json.loads(view.get("private_metadata") or "{}").get("draft")
        kept = drafts.read(str(draft_id), DRAFT_KIND, user) if draft_id else None
        if draft_id and kept is None:
            ack(response_action="errors", errors={"accounts": DRAFT_GONE})
            return
        draft, errors = draft_from_view(view, user, client, kept, files_url=files_url, max_bytes=max_bytes)
        checked = check_draft(draft, config) if draft is not None else None
        if checked is not None:
            errors = {**checked.errors, **errors}
        if errors or checked is None:
            ack(response_action="errors", errors=errors)
            return
        if draft_id and not drafts.use(str(draft_id)):  # submitted twice at once: one request
            ack(response_action="errors", errors={"accounts": DRAFT_GONE})
            return
        try:
            enforcer.create(checked)  # written (and its card queued) before the modal closes
        except OpenRequestConflict as exc:
            if draft_id:
                drafts.give_back(str(draft_id))
            ack(response_action="errors", errors=conflict_errors(client, checked.draft, exc))
            return
        except Exception:
            if draft_id:
                drafts.give_back(str(draft_id))
            raise
        ack()

    @app.action(blocks.APPROVE_ACTION, middleware=[approver])
    @timed("action:enforcement_approve")
    def approve_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, user = _request_id(body), body["user"]["id"]
        if request_id is None:
            return
        try:
            enforcer.approve(request_id, user, is_admin=ctx.roles.has(user, Role.admin))
        except Refused as exc:
            _tell(client, body, blocks.refusal_text(exc))

    @app.action(blocks.REJECT_ACTION, middleware=[approver])
    @timed("action:enforcement_reject")
    def reject_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, user = _request_id(body), body["user"]["id"]
        if request_id is None:
            return
        try:
            enforcer.check_can_decide(request_id, user)
        except Refused as exc:
            _tell(client, body, blocks.refusal_text(exc))
            return
        channel = (body.get("channel") or {}).get("id")
        client.views_open(
            trigger_id=body["trigger_id"], view=blocks.reject_modal(request_id, f"REQ-{request_id}", channel)
        )

    @app.view(blocks.REJECT_CALLBACK, middleware=[approver])
    @timed("view:enforcement_reject")
    def reject_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        reason = _value(view.get("state", {}).get("values", {}), "reason").get("value") or ""
        if not reason.strip():
            ack(response_action="errors", errors={"reason": "Say why you reject it."})
            return
        ack()
        try:
            enforcer.reject(int(meta["request_id"]), body["user"]["id"], reason)
        except Refused as exc:
            _tell(client, body, blocks.refusal_text(exc), channel=meta.get("channel"))

    @app.action(blocks.MANUAL_DONE_ACTION)
    @timed("action:enforcement_manual_done")
    def manual_done_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, user = _request_id(body), body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        if request_id is None:
            return
        if channel != ctx.config.channels.engineering:
            _tell(client, body, "Manual execution is recorded from the engineering channel's hand-off only.")
            return
        try:
            count = enforcer.mark_manual_done(request_id, user, is_engineer=ctx.roles.is_engineer(user))
        except Refused as exc:
            _tell(client, body, blocks.refusal_text(exc))
            return
        view = enforcer.view(request_id)
        message_ts = (body.get("container") or {}).get("message_ts")
        if view is not None and message_ts:
            text = blocks.manual_done_text(view, user, count)
            client.chat_update(channel=channel, ts=message_ts, text=text, blocks=[section(text).to_dict()])

    @app.action(blocks.RETRY_ACTION, middleware=[analyst])
    @timed("action:enforcement_retry")
    def retry_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        request_id, user = _request_id(body), body["user"]["id"]
        if request_id is None:
            return
        if not enforcer.retry_failed(request_id, user):
            _tell(client, body, f"REQ-{request_id} has no failed (retryable) actions. Nothing changed.")

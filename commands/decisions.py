"""Slack adapters of the decisions concept: the appeal message in the escalation channel
(``SlackAppealNotifier``) and its buttons: Uphold opens a modal for the reason; Overturn opens
the /reinstate modal prefilled with the account and linked to the appeal's case."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import decisions as blocks
from commands.blocks import qa as qa_blocks
from commands.context import AppContext
from commands.enforcement.forms import request_view
from commands.listeners import timed
from commands.vigil import VigilCall, subcommand
from workflows.cases import CATEGORIES, OUTCOMES
from workflows.decisions.appeals import AppealView
from workflows.decisions.errors import AppealRefused
from workflows.decisions.qa import QaAnswer, QaItemView
from workflows.drafts import Drafts
from workflows.ports import MessageRef
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackAppealNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_appeal(self, channel: str, appeal: AppealView) -> MessageRef:
        text, message = blocks.appeal_message(appeal)
        posted = self.client.chat_postMessage(channel=channel, text=text, blocks=message)
        return MessageRef(str(posted["channel"]), str(posted["ts"]))

    def appeal_decided(self, appeal: AppealView) -> None:
        if appeal.message is None:
            return
        text, message = blocks.appeal_message(appeal)
        self.client.chat_update(
            channel=appeal.message.channel, ts=appeal.message.ts, text=text, blocks=message
        )
        self.client.chat_postMessage(
            channel=appeal.message.channel, thread_ts=appeal.message.ts, text=blocks.decided_text(appeal)
        )


class SlackQaNotifier:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def assigned(self, review: QaItemView) -> None:
        assert review.reviewer is not None
        text, message = blocks.qa_dm(review)
        self.client.chat_postMessage(channel=review.reviewer, text=text, blocks=message)

    def escalated(self, review: QaItemView, case_ref: str) -> None:
        assert review.reviewer is not None
        self.client.chat_postMessage(
            channel=review.reviewer, text=f"Escalated: {case_ref} reviews the action again ({review.ref})."
        )


def _tell(client: WebClient, body: dict[str, Any], text: str, channel: str | None = None) -> None:
    user = body["user"]["id"]
    channel = channel or (body.get("channel") or {}).get("id")
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell the user", extra={"error": exc.response.get("error")})


def _picked(values: dict[str, Any], block: str) -> str:
    return str(
        (((values.get(block) or {}).get(blocks.VALUE) or {}).get("selected_option") or {}).get("value") or ""
    )


def register_qa(app: App, ctx: AppContext) -> None:
    qa = ctx.qa
    if qa is None:
        return

    @app.action(blocks.QA_OPEN_ACTION)
    @timed("action:qa_review_open")
    def qa_open(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        review = qa.get(int(((body.get("actions") or [{}])[0]).get("value") or 0))
        user = body["user"]["id"]
        if review is None or review.reviewer != user or review.answered:
            code = (
                "qa_not_found"
                if review is None
                else "qa_not_yours"
                if review.reviewer != user
                else "qa_answered"
            )
            client.chat_postMessage(channel=user, text=blocks.appeal_refusal(AppealRefused(code)))
            return
        if review.kind == "case":
            outcomes, categories = dict(OUTCOMES), dict(CATEGORIES)
        else:
            outcomes = dict(blocks.ACTION_OUTCOMES)
            categories = {c: c.replace("_", " ") for c in ctx.config.enforcement.reason_codes}
        client.views_open(trigger_id=body["trigger_id"], view=blocks.qa_modal(review, outcomes, categories))

    @app.view(blocks.QA_CALLBACK)
    @timed("view:qa_review")
    def qa_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = view.get("state", {}).get("values", {})
        user = body["user"]["id"]
        answer = QaAnswer(
            outcome=_picked(values, "outcome"),
            category=_picked(values, "category"),
            would_action=_picked(values, "would_action") == "yes",
            note=((values.get("note") or {}).get(blocks.VALUE) or {}).get("value") or "",
        )
        try:
            review = qa.answer(int(meta.get("review") or 0), user, answer)
        except AppealRefused as exc:
            ack(response_action="errors", errors={"outcome": blocks.appeal_refusal(exc)})
            return
        ack()
        client.chat_postMessage(
            channel=user, text=blocks.qa_reveal(review), blocks=blocks.qa_reveal_blocks(review)
        )

    @app.action(blocks.QA_ESCALATE_ACTION)
    @timed("action:qa_escalate")
    def qa_escalate(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        try:
            done = qa.escalate(int(((body.get("actions") or [{}])[0]).get("value") or 0), user)
        except AppealRefused as exc:
            _tell(client, body, blocks.appeal_refusal(exc))
            return
        if done.queued:
            _tell(client, body, "Escalating: an appeal review of the action is being opened.")
        elif done.case_ref:
            _tell(client, body, f"Already escalated: {done.case_ref} reviews the action again.")
        else:
            _tell(client, body, "Already being escalated: the appeal review is being opened.")


QA_USAGE = "/vigil qa"


@subcommand(
    "qa",
    QA_USAGE,
    "QA agreement of the last 7 days per category (per analyst for admins) and your re-reviews waiting",
    Role.analyst,
)
def _qa(call: VigilCall) -> None:
    ctx = call.ctx
    now = ctx.clock.now()
    label = f"the 7 days to {now.astimezone(ctx.config.tz):%a %-d %b %H:%M} {ctx.config.timezone}"
    week = ctx.reports.qa_by_analyst(now - timedelta(days=7), now, label)
    pending = len(ctx.qa.pending_for(call.user_id, limit=1000)) if ctx.qa is not None else 0
    admin = ctx.roles.has(call.user_id, Role.admin)
    text, reply = qa_blocks.qa_command_blocks(week, pending, admin)
    call.respond(text=text, blocks=reply, response_type="ephemeral")


def register(app: App, ctx: AppContext) -> None:
    register_qa(app, ctx)
    appeals = ctx.appeals
    if appeals is None:
        return
    analyst = require(ctx.roles, Role.analyst)
    drafts = Drafts(ctx.db, ctx.clock)

    def _appeal_id(body: dict[str, Any]) -> str:
        return str(((body.get("actions") or [{}])[0]).get("value") or "")

    @app.action(blocks.UPHOLD_ACTION, middleware=[analyst])
    @timed("action:appeal_uphold")
    def uphold_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            appeal = appeals.check_can_decide(_appeal_id(body), body["user"]["id"])
        except AppealRefused as exc:
            _tell(client, body, blocks.appeal_refusal(exc))
            return
        channel = (body.get("channel") or {}).get("id")
        client.views_open(trigger_id=body["trigger_id"], view=blocks.uphold_modal(appeal, channel))

    @app.view(blocks.UPHOLD_CALLBACK, middleware=[analyst])
    @timed("view:appeal_uphold")
    def uphold_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = view.get("state", {}).get("values", {})
        reason = ((values.get("reason") or {}).get(blocks.VALUE) or {}).get("value") or ""
        try:
            appeals.uphold(str(meta.get("appeal_id")), body["user"]["id"], reason)
        except AppealRefused as exc:
            ack(response_action="errors", errors={"reason": blocks.appeal_refusal(exc)})
            return
        ack()

    @app.action(blocks.OVERTURN_ACTION, middleware=[analyst])
    @timed("action:appeal_overturn")
    def overturn_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        try:
            appeal = appeals.check_can_decide(_appeal_id(body), user)
        except AppealRefused as exc:
            _tell(client, body, blocks.appeal_refusal(exc))
            return
        # The evidence names the appeal's case: the reinstatement is linked to it when written.
        evidence = f"{appeal.case_ref} appeal {appeal.appeal_id} against {appeal.request_ref}"
        client.views_open(
            trigger_id=body["trigger_id"],
            view=request_view(
                "reinstate",
                ctx.config.enforcement,
                drafts,
                user,
                (body.get("channel") or {}).get("id"),
                accounts=[appeal.account_id],
                reason=appeal.reason_code,
                evidence=evidence,
            ),
        )

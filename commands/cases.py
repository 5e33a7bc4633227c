"""The Slack side of cases: messages, reactions, buttons, the shortcut, /vigil queue|case,
and the notifier that posts and updates case cards."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import cases as blocks
from commands.blocks import handoff as handoff_blocks
from commands.cards import card_metadata, find_card
from commands.context import AppContext
from commands.events import EventCall, on_event
from commands.listeners import tell, timed
from commands.vigil import VigilCall, subcommand
from workflows.cases import (
    CardRef,
    CaseNotice,
    CaseNotifier,
    CaseOverrides,
    CaseResult,
    CaseView,
    IncomingMessage,
    parse_case_ref,
)
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.decisions.appeals import AppealIn
from workflows.decisions.errors import AppealRefused
from workflows.drafts import Drafts
from workflows.roles import Role

log = logging.getLogger(__name__)

CASE_SUBTYPES = {None, "bot_message", "file_share", "thread_broadcast"}
DRAFT_KIND = "case_shortcut"
DRAFT_GONE = "This form expired or was already used. Use the shortcut on the message again."


class SlackCaseNotifier(CaseNotifier):
    def __init__(self, client: WebClient, config: VigilConfig, clock: Clock) -> None:
        self.client = client
        self.config = config
        self.clock = clock

    def post_card(self, case: CaseView) -> CardRef:
        """Post the card, or adopt the one an attempt that failed before storing it posted."""
        ts = find_card(self.client, case.channel, "case", case.id, thread_ts=case.ts)
        if ts is not None:
            self.update_card(replace(case, card_ts=ts))  # it shows the state of its own time
        else:
            ts = self.client.chat_postMessage(
                channel=case.channel,
                thread_ts=case.ts,
                text=blocks.card_text(case),
                blocks=blocks.card_blocks(case, self.clock.now()),
                unfurl_links=False,
                metadata=card_metadata("case", case.id),
            )["ts"]
        try:
            permalink = self.client.chat_getPermalink(channel=case.channel, message_ts=case.ts).get(
                "permalink"
            )
        except SlackApiError:
            permalink = None  # the card matters; a link is a nicety
        return CardRef(ts=ts, permalink=permalink)

    def update_card(self, case: CaseView) -> None:
        self.client.chat_update(
            channel=case.channel,
            ts=case.card_ts,
            text=blocks.card_text(case),
            blocks=blocks.card_blocks(case, self.clock.now()),
        )

    def post_in_thread(self, case: CaseView, notice: CaseNotice) -> None:
        # Notices are built from ids and refs only, never user text: mentions stay live.
        text = blocks.notice_text(case, notice)
        self.client.chat_postMessage(channel=case.channel, thread_ts=case.ts, text=text, unfurl_links=False)

    def post_alert(self, case: CaseView, notice: CaseNotice) -> None:
        link = f" <{case.permalink}|Open>" if case.permalink else ""
        self.client.chat_postMessage(
            channel=self.config.channels.alerts,
            text=blocks.notice_text(case, notice) + link,
            unfurl_links=False,
        )


def message_of(event: dict[str, Any]) -> IncomingMessage:
    text = event.get("text") or ""
    if not text.strip():  # integrations often post attachments only
        parts = [a.get("fallback") or a.get("text") or "" for a in event.get("attachments") or []]
        text = "\n".join(p for p in parts if p)
    return IncomingMessage(
        channel=event["channel"],
        ts=event["ts"],
        user=event.get("user") or event.get("bot_id"),
        is_bot=bool(event.get("bot_id")) or event.get("subtype") == "bot_message",
        text=text,
    )


def _reaction(name: str) -> str:
    return name.split("::", 1)[0]  # skin tones: "eyes::skin-tone-2"


def _our_reactions(config: VigilConfig) -> set[str]:
    return {config.reactions.claim, config.reactions.resolve, config.reactions.escalate}


def _reaction_role(call: EventCall) -> Role | None:
    """Our reactions on a case (or in an escalation channel) need an analyst; others nobody."""
    event, config = call.event, call.ctx.config
    item = event.get("item") or {}
    if _reaction(event.get("reaction", "")) not in _our_reactions(config) or item.get("type") != "message":
        return None
    if item.get("channel") in config.channels.escalations:
        return Role.analyst
    found = call.ctx.cases.by_source(item.get("channel", ""), item.get("ts", ""))
    return Role.analyst if found else None


@on_event("message")
@timed("event:message")
def on_message(call: EventCall) -> None:
    event, service = call.event, call.ctx.cases
    subtype = event.get("subtype")
    channel = event.get("channel", "")
    if subtype == "message_changed":
        new, old = event.get("message") or {}, event.get("previous_message") or {}
        if new.get("text") != old.get("text"):
            service.record_edit(
                channel, new.get("ts", ""), new.get("text", ""), old.get("text"), new.get("user")
            )
        return
    if subtype == "message_deleted":
        service.record_deletion(
            channel, event.get("deleted_ts", ""), (event.get("previous_message") or {}).get("text")
        )
        return
    if subtype not in CASE_SUBTYPES or "ts" not in event:
        return  # joins, topic changes, …
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event["ts"]:
        service.add_note(channel, thread_ts, message_of(event))
    elif channel in call.ctx.config.channels.escalations:
        service.open_case(message_of(event))  # keyed by channel and ts: a retry finds it


@on_event("reaction_added")
@timed("event:reaction_added")
def on_reaction_added(call: EventCall) -> None:
    if not call.permits(_reaction_role(call)):
        return
    event, client, service = call.event, call.client, call.ctx.cases
    reactions = call.ctx.config.reactions
    item, user, name = event.get("item") or {}, event["user"], _reaction(event.get("reaction", ""))
    ours = _our_reactions(call.ctx.config)
    case = service.by_source(item.get("channel", ""), item.get("ts", "")) if name in ours else None
    if case is None:
        return
    if name == reactions.claim:
        _reply(client, item["channel"], user, service.claim(case.id, user), "claim_reaction")
    elif name == reactions.escalate:
        _reply(client, item["channel"], user, service.escalate(case.id, user), "escalate")
    elif name == reactions.resolve:
        if not case.is_open:
            _reply(client, item["channel"], user, CaseResult("already_resolved", case), "resolve")
            return
        client.chat_postEphemeral(
            channel=item["channel"],
            user=user,
            text=f"How did {case.ref} end?",
            blocks=blocks.outcome_prompt(case),
        )


@on_event("reaction_removed")
@timed("event:reaction_removed")
def on_reaction_removed(call: EventCall) -> None:
    event, service = call.event, call.ctx.cases
    item = event.get("item") or {}
    if _reaction(event.get("reaction", "")) != call.ctx.config.reactions.claim:
        return
    case = service.by_source(item.get("channel", ""), item.get("ts", ""))
    if case is not None and case.claimed_by == event.get("user"):
        service.release(case.id, event["user"])


def register(app: App, ctx: AppContext) -> None:
    service = ctx.cases
    drafts = Drafts(ctx.db, ctx.clock)
    analyst = [require(ctx.roles, Role.analyst)]

    @app.action("case_claim", middleware=analyst)
    @timed("action:case_claim")
    def claim_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        _reply(client, _channel(body), user, service.claim(int(action["value"]), user), "claim_button")

    @app.action("case_escalate", middleware=analyst)
    @timed("action:case_escalate")
    def escalate_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        _reply(client, _channel(body), user, service.escalate(int(action["value"]), user), "escalate")

    @app.action("case_resolve", middleware=analyst)
    @timed("action:case_resolve")
    def resolve_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        case = service.get(int(action["value"]), with_events=False)
        if case is None or not case.is_open:
            _reply(
                client,
                _channel(body),
                body["user"]["id"],
                CaseResult("already_resolved" if case else "not_found", case),
                "resolve",
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=blocks.resolve_modal(case, _channel(body)))

    @app.action(re.compile(r"^case_outcome_\w+$"), middleware=analyst)
    @timed("action:case_outcome")
    def outcome_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any
    ) -> None:
        ack()
        case_id, outcome = action["value"].split(":", 1)
        result = service.resolve(int(case_id), body["user"]["id"], outcome)
        respond(
            text=blocks.reply_for(result, "resolve") or "Done.",
            replace_original=True,
            response_type="ephemeral",
        )

    @app.view("case_resolve", middleware=analyst)
    @timed("view:case_resolve")
    def resolve_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        outcome = ((values.get("outcome") or {}).get("outcome") or {}).get("selected_option") or {}
        if not outcome.get("value"):
            ack(response_action="errors", errors={"outcome": "Pick how the case ended."})
            return
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        note = ((values.get("note") or {}).get("note") or {}).get("value")
        result = service.resolve(int(meta["case_id"]), body["user"]["id"], outcome["value"], note)
        if result.outcome != "resolved" and meta.get("channel"):
            _reply(client, meta["channel"], body["user"]["id"], result, "resolve")

    @app.shortcut("create_case", middleware=analyst)
    @timed("shortcut:create_case")
    def create_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id", "")
        existing = service.by_source(channel, message.get("ts", ""))
        if existing is not None:
            tell(client, channel, body["user"]["id"], f"That message is already {existing.ref}.")
            return
        text = message.get("text") or ""
        triage = service.triager.triage(text, [])
        # The message itself stays server-side: Slack caps private_metadata at 3,000 characters,
        # which 480 Cyrillic letters or 240 emoji exceed once JSON-escaped.
        draft = drafts.keep(
            DRAFT_KIND,
            body["user"]["id"],
            {
                "channel": channel,
                "ts": message.get("ts"),
                "user": message.get("user") or message.get("bot_id"),
                "is_bot": bool(message.get("bot_id")),
                "text": text,
            },
        )
        client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.create_modal({"draft": draft}, triage.category, triage.priority, text),
        )

    @app.view("case_create", middleware=analyst)
    @timed("view:case_create")
    def create_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        draft_id = str(json.loads(view.get("private_metadata") or "{}").get("draft") or "")
        kept = drafts.read(draft_id, DRAFT_KIND, body["user"]["id"]) if draft_id else None
        if kept is None:
            ack(response_action="errors", errors={"category": DRAFT_GONE})
            return
        values = view["state"]["values"]
        category = values["category"]["category"]["selected_option"]["value"]
        appeal: AppealIn | None = None
        if category == "appeal":
            # Checked before the draft is used, so a form with a bad field stays usable.
            appeal, errors = _appeal_form(ctx, values, kept)
            if errors:
                ack(response_action="errors", errors=errors)
                return
        # Used before the ack, so a second submit of the same form is refused at once, not after
        # the first one's case is written.
        if not drafts.use(draft_id):
            ack(response_action="errors", errors={"category": DRAFT_GONE})
            return
        ack()
        user = body["user"]["id"]
        if appeal is not None:
            _receive_appeal(ctx, client, appeal, kept, user, lambda: drafts.give_back(draft_id))
            return
        overrides = CaseOverrides(
            category=category,
            priority=values["priority"]["priority"]["selected_option"]["value"],
        )
        message = IncomingMessage(
            channel=kept["channel"],
            ts=kept["ts"],
            user=kept.get("user"),
            is_bot=bool(kept.get("is_bot")),
            text=kept.get("text") or "",
        )
        # Cases are keyed by channel and ts: a second submit finds the first case.
        try:
            result = service.open_case(message, source="shortcut", actor=user, overrides=overrides)
        except Exception:
            drafts.give_back(draft_id)  # nothing was opened: the form can be sent again
            raise
        if result.outcome == "exists" and result.case:
            tell(client, kept["channel"], user, f"That message is already {result.case.ref}.")


_REQUEST = re.compile(r"^REQ-\d{1,12}$", re.IGNORECASE)
_PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")  # the Transparency Database's puid alphabet
APPEAL_TEXT_MAX = 10_000


def _typed(values: dict[str, Any], block: str) -> str:
    return str(((values.get(block) or {}).get(block) or {}).get("value") or "").strip()


def _appeal_form(
    ctx: AppContext, values: dict[str, Any], kept: dict[str, Any]
) -> tuple[AppealIn | None, dict[str, str]]:
    """The appeal the form describes, or the errors to show on its fields (nothing written)."""
    account, action = _typed(values, "appeal_account"), _typed(values, "appeal_action")
    errors: dict[str, str] = {}
    if not account:
        errors["appeal_account"] = "An appeal needs the account whose suspension is contested."
    elif not ctx.config.enforcement.account_id_regex().fullmatch(account):
        errors["appeal_account"] = f"{account} is not an account id."
    if not action:
        errors["appeal_action"] = "An appeal needs the action: its statement id (vigil-req…) or REQ-n."
    elif not (_REQUEST.match(action) or _PUID.match(action)):
        errors["appeal_action"] = "Give the statement id (vigil-req…) or the request (REQ-n)."
    if errors:
        return None, errors
    if ctx.appeals is None:
        return None, {"category": "Appeals are not set up in this Vigil."}
    is_request = bool(_REQUEST.match(action))
    try:
        appeal = AppealIn(
            appeal_id=f"slack-{kept['channel']}-{kept['ts']}",
            account_id=account,
            request_id=action.upper() if is_request else None,
            puid=None if is_request else action,
            text=(kept.get("text") or "").strip()[:APPEAL_TEXT_MAX] or "(the message had no text)",
        )
        ctx.appeals.check(appeal)
    except ValidationError as exc:
        return None, {"appeal_action": "; ".join(str(e["msg"]) for e in exc.errors())[:150]}
    except AppealRefused as refused:
        where = "appeal_action" if refused.code == "unknown_action" else "category"
        return None, {where: str(refused.fields.get("reason") or refused.code)[:150]}
    return appeal, {}


def _receive_appeal(
    ctx: AppContext,
    client: WebClient,
    appeal: AppealIn,
    kept: dict[str, Any],
    user: str,
    give_back: Callable[[], None],
) -> None:
    """Open the appeal's case (linked to the action, with its deadline and independence)."""
    assert ctx.appeals is not None
    try:
        permalink = client.chat_getPermalink(channel=kept["channel"], message_ts=kept["ts"]).get("permalink")
    except SlackApiError:
        permalink = None  # the appeal stands without a link back to the message
    links = [permalink] if isinstance(permalink, str) and permalink.startswith("https://") else []
    try:
        # The platform never issued this appeal's id, so it is not sent the outcome: the team
        # answers the user where the appeal came in (the decision's message says so).
        receipt = ctx.appeals.receive(appeal.model_copy(update={"links": links}), internal=True)
    except AppealRefused as refused:  # changed since the form was checked
        give_back()
        reason = refused.fields.get("reason") or refused.code
        tell(client, kept["channel"], user, f"No appeal was opened: {reason}. The form can be sent again.")
        return
    except Exception:
        give_back()  # nothing was opened: the form can be sent again
        raise
    if receipt.created:
        escalations = ctx.config.channels.escalations[0]
        text = f"Appeal opened as {receipt.case_ref}, decided in <#{escalations}>."
    else:
        text = f"That message's appeal is already {receipt.case_ref}."
    tell(client, kept["channel"], user, text)


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


def _reply(client: WebClient, channel: str, user: str, result: CaseResult, action: str) -> None:
    text = blocks.reply_for(result, action)
    if text and channel:
        tell(client, channel, user, text)


@subcommand("queue", "/vigil queue", "open cases by priority, with age and SLA", role=Role.analyst)
def _queue(call: VigilCall) -> None:
    cases, total = call.ctx.cases.queue()
    call.respond(
        blocks=blocks.queue_blocks(cases, total, call.ctx.clock.now()),
        text=f"{total} open cases",
        response_type="ephemeral",
    )


@subcommand("case", "/vigil case CASE-ID", "a case with its timeline", role=Role.analyst)
def _case(call: VigilCall) -> None:
    case_id = parse_case_ref(call.args[0]) if call.args else None
    case = call.ctx.cases.get(case_id) if case_id is not None else None
    if case is None:
        wanted = blocks.escape(call.args[0]) if call.args else "nothing"
        call.respond(text=f"No case {wanted}. Usage: `/vigil case CASE-12`.", response_type="ephemeral")
        return
    shown = blocks.case_blocks(case, call.ctx.clock.now())
    if call.ctx.handoffs is not None:  # tickets Engineering has for this case
        shown += handoff_blocks.handoff_section(call.ctx.handoffs.about(case.ref))
    call.respond(blocks=shown, text=case.ref, response_type="ephemeral")

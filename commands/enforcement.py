"""``/suspend``, ``/reinstate``, the approval card's buttons, the engineering hand-off and
``/vigil account ID``; plus the Slack side of the enforcement notifier port."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.access import require
from commands.blocks import enforcement as blocks
from commands.blocks.common import clip, section, slack_len
from commands.cards import card_metadata, find_card
from commands.context import AppContext
from commands.listeners import timed
from commands.vigil import VigilCall, subcommand
from workflows.config import Channels, EnforcementSettings
from workflows.drafts import Drafts
from workflows.enforcement import (
    ACTIONS,
    Draft,
    OpenRequestConflict,
    Refused,
    RequestView,
    Summary,
    account_history,
    check_draft,
    read_id_file,
    split_ids,
)
from workflows.ports import MessageRef
from workflows.roles import Role

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
FILES_URL = "https://files.slack.com/"  # the only origin the bot token goes to for a download
BYTES_PER_ID = 100  # generous for an id and a few extra CSV columns
DRAFT_KIND = "enforcement_request"
DRAFT_GONE = "This form expired or was already submitted. Run /suspend or /reinstate again."
_URL = re.compile(r"^https?://", re.IGNORECASE)
_CASE = re.compile(r"^CASE-\d+$", re.IGNORECASE)


class SlackEnforcementNotifier:
    """The enforcement notifier port (workflows/enforcement/ports.py), backed by Slack."""

    def __init__(self, client: WebClient, channels: Channels) -> None:
        self.client = client
        self.channels = channels

    def post_card(self, request: RequestView) -> MessageRef:
        """Post the card, or adopt the one an attempt that failed before storing it posted."""
        text, card = blocks.card(request)
        channel = self.channels.approvals
        found = find_card(self.client, channel, "request", request.id)
        if found is not None:
            self.client.chat_update(channel=channel, ts=found, text=text, blocks=card)
            return MessageRef(channel, found)
        response = self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=card,
            unfurl_links=False,
            unfurl_media=False,
            metadata=card_metadata("request", request.id),
        )
        return MessageRef(response["channel"], response["ts"])

    def update_card(self, request: RequestView) -> None:
        if request.card is None:
            return
        text, card = blocks.card(request)
        self.client.chat_update(channel=request.card.channel, ts=request.card.ts, text=text, blocks=card)

    def _thread(self, request: RequestView, text: str, **kwargs: Any) -> str | None:
        if request.card is None:
            return None
        response = self.client.chat_postMessage(
            channel=request.card.channel, thread_ts=request.card.ts, text=text, unfurl_links=False, **kwargs
        )
        return response["ts"]

    def requester_link(self, request: RequestView, checked_duplicates: list[str]) -> None:
        permalink = None
        if request.card is not None:
            try:
                permalink = self.client.chat_getPermalink(
                    channel=request.card.channel, message_ts=request.card.ts
                )["permalink"]
            except SlackApiError:
                log.warning("no permalink for the approval card", extra={"request": request.ref})
        text = blocks.requester_text(request, permalink, checked_duplicates)
        if request.origin_channel:
            try:
                self.client.chat_postEphemeral(
                    channel=request.origin_channel, user=request.requester, text=text
                )
                return
            except SlackApiError:
                pass  # Vigil is not in that channel: tell them directly instead
        self.client.chat_postMessage(channel=request.requester, text=text)

    def decision(self, request: RequestView, by: str, final: bool) -> None:
        self._thread(request, blocks.decision_text(request, by, final))

    def account_results(self, request: RequestView, results: list[Any]) -> None:
        self._thread(request, blocks.results_text(results))

    def progress(self, request: RequestView) -> str | None:
        text = blocks.progress_text(request)
        progress_ts = request.progress_ts
        if not progress_ts and request.card is not None:  # posted, but its ts was never stored?
            progress_ts = find_card(
                self.client, request.card.channel, "progress", request.id, thread_ts=request.card.ts
            )
        if progress_ts and request.card is not None:
            self.client.chat_update(channel=request.card.channel, ts=progress_ts, text=text)
            return progress_ts
        return self._thread(request, text, metadata=card_metadata("progress", request.id))

    def summary(self, summary: Summary) -> None:
        request = summary.request
        text, summary_blocks = blocks.summary_blocks(summary)
        self._thread(request, text, blocks=summary_blocks)
        if summary.failures and request.card is not None:
            self.client.files_upload_v2(
                channel=request.card.channel,
                thread_ts=request.card.ts,
                content=blocks.failures_csv(summary.failures),
                filename=f"{request.ref}-failures.csv",
                title=f"{request.ref}: failed accounts",
            )

    def hand_off(self, request: RequestView, accounts: list[str]) -> None:
        text, handoff = blocks.hand_off(request, accounts)
        response = self.client.chat_postMessage(
            channel=self.channels.engineering, text=text, blocks=handoff, unfurl_links=False
        )
        if len(accounts) > blocks.HANDOFF_INLINE:
            self.client.files_upload_v2(
                channel=response["channel"],
                thread_ts=response["ts"],
                content=blocks.accounts_csv(accounts),
                filename=f"{request.ref}-accounts.csv",
                title=f"{request.ref}: accounts to {request.action}",
            )

    def manual_done(self, request: RequestView, engineer: str, count: int) -> None:
        self._thread(request, blocks.manual_done_text(request, engineer, count))

    def retrying(self, request: RequestView, by: str, count: int) -> None:
        self._thread(
            request,
            f":repeat: <@{by}> retried {count:,} failed action(s) of {request.ref} "
            "with the same idempotency keys.",
        )


def prefill(text: str, config: EnforcementSettings) -> dict[str, Any]:
    """``/suspend acct_1 acct_2 spam CASE-4`` → accounts, reason and evidence for the modal."""
    accounts, evidence, reason = [], [], None
    for word in split_ids(text):
        if reason is None and word.lower() in config.reason_codes:
            reason = word.lower()
        elif _CASE.match(word) or _URL.match(word):
            evidence.append(word)
        else:
            accounts.append(word)
    return {"accounts": accounts, "reason": reason, "evidence": "\n".join(evidence)}


def request_view(
    action: str,
    config: EnforcementSettings,
    drafts: Drafts,
    user: str,
    channel: str | None,
    *,
    accounts: list[str],
    reason: str | None,
    evidence: str,
) -> dict[str, Any]:
    """The modal, prefilled. What does not fit its inputs (more ids than 3,000 characters, a
    longer evidence) is kept whole in a draft: the ids are shown as a count and submitted
    all; the evidence is shown clipped and submitted whole unless the person edits it."""
    listed = "\n".join(accounts)
    ids_fit = slack_len(listed) <= blocks.INPUT_MAX
    if ids_fit and slack_len(evidence) <= blocks.INPUT_MAX:
        return blocks.request_modal(
            action, config, accounts=listed, reason=reason, evidence=evidence, channel=channel
        )
    kept, left_out = [], []
    if not ids_fit:
        pattern = config.account_id_regex()
        for word in accounts:
            (kept if pattern.match(word) else left_out).append(word)
    shown = clip(evidence, blocks.INPUT_MAX)
    payload = {"accounts": kept, "evidence": evidence if shown != evidence else "", "evidence_shown": shown}
    draft = drafts.keep(DRAFT_KIND, user, payload)
    return blocks.request_modal(
        action,
        config,
        accounts="" if not ids_fit else listed,
        reason=reason,
        evidence=evidence,
        channel=channel,
        kept=kept or None,
        left_out=left_out,
        draft=draft,
    )


class FileProblem(Exception):
    """Why an uploaded file was not read. Never carries what the file (or its host) said."""


def max_file_bytes(bulk_max: int) -> int:
    """A file of ids holds at most bulk_max of them: anything much bigger is not one."""
    return min(MAX_FILE_BYTES, 1024 + bulk_max * BYTES_PER_ID)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None  # https://files.slack.com@evil.example/ names evil.example, not Slack
    return parts.scheme.lower(), parts.hostname.lower(), port


def is_slack_file_url(url: str, files_url: str = FILES_URL) -> bool:
    """Exactly Slack's files origin (scheme, host and port), parsed: never a prefix or a suffix."""
    origin = _origin(url)
    return origin is not None and origin == _origin(files_url)


def download(
    client: WebClient, file_id: str, *, files_url: str = FILES_URL, max_bytes: int = MAX_FILE_BYTES
) -> bytes:
    """A file the person uploaded in the modal, fetched with the bot token.

    The token goes only to Slack's files host, never through a redirect, and the download
    stops at ``max_bytes``: whatever files.info answers, the token stays Slack's.
    """
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        raise FileProblem(f"Slack would not give Vigil the file ({exc.response.get('error')}).") from None
    url = info.get("url_private_download") or info.get("url_private")
    if not url:
        raise FileProblem("That file has no download link; upload a CSV or text file.")
    if not is_slack_file_url(str(url), files_url):
        log.warning("refused a file link outside Slack's files host", extra={"file": file_id})
        raise FileProblem("That file's link does not point at Slack's files host; Vigil did not fetch it.")
    too_big = FileProblem(f"That file is over {max_bytes // 1024:,} KB, more than a list of ids; split it.")
    try:
        if int(info.get("size") or 0) > max_bytes:
            raise too_big
    except (TypeError, ValueError):
        pass  # no usable size: the stream below is capped anyway
    try:
        with httpx.stream(
            "GET",
            url,
            headers={"Authorization": f"Bearer {client.token}"},
            timeout=10,
            follow_redirects=False,
        ) as response:
            if response.is_redirect:
                raise FileProblem(
                    "Slack redirected the download elsewhere; Vigil does not follow it. Try again."
                )
            if response.status_code != 200:
                raise FileProblem(f"Could not download the file (HTTP {response.status_code}).")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise too_big
            return bytes(data)
    except httpx.HTTPError as exc:
        raise FileProblem(f"Could not download the file ({type(exc).__name__}); try again.") from None


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(blocks.VALUE) or {}


def draft_from_view(
    view: dict[str, Any],
    user: str,
    client: WebClient,
    kept: dict[str, Any] | None = None,
    *,
    files_url: str = FILES_URL,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[Draft | None, dict[str, str]]:
    """What the modal asks for; ``kept`` is its server-side draft (the command's ids that did
    not fit the input, and an evidence longer than it)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    action = meta.get("action")
    if action not in ACTIONS:
        return None, {"accounts": "This form is out of date; run /suspend or /reinstate again."}
    values = view.get("state", {}).get("values", {})
    file_ids: list[str] = []
    errors: dict[str, str] = {}
    for uploaded in _value(values, "file").get("files") or []:
        try:
            data = download(client, uploaded["id"], files_url=files_url, max_bytes=max_bytes)
            file_ids.extend(read_id_file(data))
        except FileProblem as exc:
            errors["file"] = str(exc)
    reason = (_value(values, "reason").get("selected_option") or {}).get("value")
    checklist = [o.get("value") for o in _value(values, "checklist").get("selected_options") or []]
    accounts_text = _value(values, "accounts").get("value") or ""
    evidence = _value(values, "evidence").get("value") or ""
    if kept is not None:
        accounts_text = "\n".join([*kept.get("accounts", []), accounts_text])
        if kept.get("evidence") and evidence == kept.get("evidence_shown"):
            evidence = kept["evidence"]  # shown clipped, left as it was: the whole of it
    draft = Draft(
        action=action,
        requester=user,
        accounts_text=accounts_text,
        file_ids=file_ids,
        reason_code=reason,
        evidence=evidence,
        note=_value(values, "note").get("value") or "",
        checklist=[c for c in checklist if c],
        root_cause=_value(values, "root_cause").get("value") or "",
        source="slack",
        origin_channel=meta.get("channel"),
    )
    return draft, errors


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


def conflict_errors(client: WebClient, draft: Draft, conflict: OpenRequestConflict) -> dict[str, str]:
    """The modal's inline error for accounts already asked for: on the field they came from,
    naming each open request with a link to its card (inline errors are plain text)."""
    links: dict[int, str] = {}
    for request in conflict.requests[:3]:
        if request.card is None:
            continue
        try:
            links[request.request_id] = client.chat_getPermalink(
                channel=request.card.channel, message_ts=request.card.ts
            )["permalink"]
        except SlackApiError:
            log.warning("no permalink for a conflicting card", extra={"request": request.ref})
    typed = set(split_ids(draft.accounts_text))
    field = (
        "accounts" if any(c.account_id in typed for c in conflict.conflicts) or not draft.file_ids else "file"
    )
    return {field: blocks.conflict_text(conflict, links)}


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
    call.respond(
        text=f"Enforcement history of {account_id}",
        blocks=blocks.history(account_id, entries),
        response_type="ephemeral",
    )


def register(app: App, ctx: AppContext) -> None:
    analyst = require(ctx.roles, Role.analyst)
    approver = require(ctx.roles, Role.approver)
    config = ctx.config.enforcement
    enforcer = ctx.enforcer
    files_url, max_bytes = ctx.settings.slack_files_url, max_file_bytes(config.bulk_max)

    drafts = Drafts(ctx.db, ctx.clock)

    def opener(action: str) -> Any:
        def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()  # then open at once: the trigger_id lives three seconds; nothing is looked up first
            fields = prefill(body.get("text", ""), config)
            client.views_open(
                trigger_id=body["trigger_id"],
                view=request_view(action, config, drafts, body["user_id"], body.get("channel_id"), **fields),
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


def suspend_modal_opener(config: EnforcementSettings) -> Callable[..., None]:
    """For other capabilities (an investigation's "Request suspension"): the /suspend modal,
    prefilled with the accounts, reason and evidence they already know."""

    def open_modal(
        client: WebClient, trigger_id: str, accounts: list[str], reason: str | None, evidence: str
    ) -> None:
        client.views_open(
            trigger_id=trigger_id,
            view=blocks.request_modal(
                "suspend", config, accounts="\n".join(accounts), reason=reason, evidence=evidence
            ),
        )

    return open_modal

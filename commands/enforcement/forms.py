"""The /suspend and /reinstate modal: prefilled from the command (ids that do not fit kept
server-side in a draft), read back on submit, and opened for other capabilities."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.blocks import enforcement as blocks
from commands.blocks.common import clip, slack_len
from commands.enforcement.files import FILES_URL, MAX_FILE_BYTES, FileProblem, download
from workflows.config import EnforcementSettings
from workflows.decisions import find_personal_data
from workflows.drafts import Drafts
from workflows.enforcement import (
    ACTIONS,
    Draft,
    OpenRequestConflict,
    read_id_file,
    split_ids,
)

log = logging.getLogger(__name__)

DRAFT_KIND = "enforcement_request"
DRAFT_GONE = "This form expired or was already submitted. Run /suspend or /reinstate again."
_URL = re.compile(r"^https?://", re.IGNORECASE)
_CASE = re.compile(r"^CASE-\d+$", re.IGNORECASE)


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
    facts: bool = False,
) -> dict[str, Any]:
    """The modal, prefilled. What does not fit its inputs (more ids than 3,000 characters, a
    longer evidence) is kept whole in a draft: the ids are shown as a count and submitted
    all; the evidence is shown clipped and submitted whole unless the person edits it."""
    listed = "\n".join(accounts)
    ids_fit = slack_len(listed) <= blocks.INPUT_MAX
    if ids_fit and slack_len(evidence) <= blocks.INPUT_MAX:
        return blocks.request_modal(
            action, config, accounts=listed, reason=reason, evidence=evidence, channel=channel, facts=facts
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
        facts=facts,
    )


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
        decision_facts=_value(values, "decision_facts").get("value") or None,
    )
    if draft.decision_facts:
        spans = find_personal_data(draft.decision_facts)
        if spans:
            errors["decision_facts"] = "Remove the personal data (the statement is public): " + ", ".join(
                s.describe() for s in spans[:3]
            )
    return draft, errors


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


def suspend_modal_opener(config: EnforcementSettings, *, facts: bool = False) -> Callable[..., None]:
    """For other capabilities (an investigation's "Request suspension"): the /suspend modal,
    prefilled with the accounts, reason and evidence they already know."""

    def open_modal(
        client: WebClient, trigger_id: str, accounts: list[str], reason: str | None, evidence: str
    ) -> None:
        client.views_open(
            trigger_id=trigger_id,
            view=blocks.request_modal(
                "suspend", config, accounts="\n".join(accounts), reason=reason, evidence=evidence, facts=facts
            ),
        )

    return open_modal

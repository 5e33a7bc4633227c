"""Block Kit for enforcement: the request modal, the approval card, results in its thread,
the engineering hand-off, an account's history, and refusals rendered from their codes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from commands.blocks.common import (
    as_dicts,
    clip,
    context,
    divider,
    escape,
    header,
    mention,
    section,
    slack_len,
    truncate,
    user_text,
)
from store.enforcement import (
    ALREADY,
    APPROVED,
    AWAITING_APPROVAL,
    CANCELLED,
    COMPLETED,
    DONE,
    EXPIRED,
    FAILED,
    MANUAL,
    PENDING,
    PENDING_APPROVAL,
    REJECTED,
    RETRYABLE,
    RUNNING,
)
from workflows.config import EnforcementSettings, format_duration
from workflows.enforcement import (
    REINSTATE_CHECKS,
    ActionView,
    HistoryEntry,
    OpenRequestConflict,
    Refused,
    RequestView,
    Summary,
    request_ref,
)

REQUEST_CALLBACK = "enforcement_request"
REJECT_CALLBACK = "enforcement_reject"
APPROVE_ACTION = "enforcement_approve"
REJECT_ACTION = "enforcement_reject"
RETRY_ACTION = "enforcement_retry"
MANUAL_DONE_ACTION = "enforcement_manual_done"
VALUE = "value"  # the action_id of every input element in the modal
INPUT_MAX = 3000  # Slack's cap on a plain-text input (and the modal's accounts and evidence)

VERB = {"suspend": "Suspend", "reinstate": "Reinstate"}
PAST = {"suspend": "suspended", "reinstate": "reinstated"}
STATE = {"suspend": "suspended", "reinstate": "active"}
STATUS_LABEL = {
    PENDING_APPROVAL: "waiting for approval",
    APPROVED: "approved, executing",
    REJECTED: "rejected",
    COMPLETED: "completed",
    EXPIRED: "expired",
}
ACTION_LABEL = {
    AWAITING_APPROVAL: "awaiting approval",
    PENDING: "queued",
    RUNNING: "in progress",
    DONE: "done",
    ALREADY: "already in that state",
    FAILED: "failed",
    RETRYABLE: "failed (retryable)",
    MANUAL: "awaiting manual execution",
    CANCELLED: "cancelled",
}


def _plain_input(
    placeholder: str, initial: str = "", multiline: bool = True, max_length: int = INPUT_MAX
) -> Any:
    return PlainTextInputElement(
        action_id=VALUE,
        placeholder=placeholder,
        initial_value=initial or None,
        multiline=multiline,
        max_length=max_length,
    )


def request_modal(
    action: str,
    config: EnforcementSettings,
    *,
    accounts: str = "",
    reason: str | None = None,
    evidence: str = "",
    channel: str | None = None,
    kept: list[str] | None = None,
    left_out: list[str] | None = None,
    draft: str | None = None,
) -> dict[str, Any]:
    """The /suspend and /reinstate modal. ``kept`` are the command's ids held in the server-side
    ``draft`` because the input cannot hold them all: a person never sees a cut list."""
    if slack_len(accounts) > INPUT_MAX:
        raise ValueError("too many ids for the accounts input: keep them in a draft")
    options = [Option(value=code, text=code.replace("_", " ")) for code in config.reason_codes]
    initial = next((o for o in options if o.value == reason), None)
    blocks: list[Any] = [section(kept_text(kept, left_out or []))] if kept else []
    blocks += [
        InputBlock(
            block_id="accounts",
            label="More accounts" if kept else "Accounts",
            optional=True,
            hint="Account ids separated by spaces, commas or new lines. Or upload a file below.",
            element=_plain_input("acct_123 acct_456", accounts),
        ),
        InputBlock(
            block_id="file",
            label="…or a CSV / text file of account ids",
            optional=True,
            hint=f"One id per line or an account_id column; up to {config.bulk_max:,} accounts.",
            element=FileInputElement(action_id=VALUE, filetypes=["csv", "txt"], max_files=1),
        ),
        InputBlock(
            block_id="reason",
            label="Reason",
            optional=True,  # checked by Vigil, so the error names what to do
            element=StaticSelectElement(
                action_id=VALUE, placeholder="Pick a reason", options=options, initial_option=initial
            ),
        ),
        InputBlock(
            block_id="evidence",
            label="Evidence",
            optional=True,
            hint="Links, the case id (CASE-12), what you saw.",
            element=_plain_input("https://… CASE-12", clip(evidence, INPUT_MAX)),
        ),
        InputBlock(
            block_id="note",
            label="Note for the approver (sent to the platform with the action)",
            optional=True,
            element=_plain_input("Anything the approver should know", max_length=1000),
        ),
    ]
    if action == "reinstate":
        blocks += [
            InputBlock(
                block_id="checklist",
                label="Review checklist",
                optional=True,
                element=CheckboxesElement(
                    action_id=VALUE,
                    options=[Option(value=key, text=label) for key, label in REINSTATE_CHECKS.items()],
                ),
            ),
            InputBlock(
                block_id="root_cause",
                label="Root cause (why the suspension was wrong)",
                optional=True,
                element=_plain_input("e.g. false positive of the velocity rule", max_length=1000),
            ),
        ]
    view = View(
        type="modal",
        callback_id=REQUEST_CALLBACK,
        title=f"{VERB[action]} accounts",
        submit="Ask for approval",
        close="Cancel",
        private_metadata=json.dumps(
            {"action": action, "channel": channel, **({"draft": draft} if draft else {})}
        ),
        blocks=blocks,
    )
    return view.to_dict()


def kept_text(kept: list[str], left_out: list[str]) -> str:
    """What the command's ids are, without listing them all: the count, the first and the last."""
    distinct = list(dict.fromkeys(kept))
    shown = [f"`{escape(a)}`" for a in distinct[:3]]
    if len(distinct) > 4:
        shown.append(f"… `{escape(distinct[-1])}`")
    elif len(distinct) == 4:
        shown.append(f"`{escape(distinct[-1])}`")
    text = (
        f":clipboard: *{len(distinct):,} accounts from your command* ({', '.join(shown)}) will be submitted."
    )
    if len(kept) > len(distinct):
        text += f" {len(kept) - len(distinct):,} duplicate(s) are counted once."
    if left_out:
        names = ", ".join(f"`{escape(w)}`" for w in left_out[:5])
        more = f" and {len(left_out) - 5:,} more" if len(left_out) > 5 else ""
        text += f"\n:warning: {len(left_out):,} word(s) are not account ids and are left out: {names}{more}."
    return text


def reject_modal(request_id: int, ref: str, channel: str | None) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=REJECT_CALLBACK,
        title=truncate(f"Reject {ref}", 24),
        submit="Reject",
        close="Cancel",
        private_metadata=json.dumps({"request_id": request_id, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="reason",
                label="Why? (the requester sees this)",
                element=_plain_input("e.g. the evidence does not show spam", max_length=1000),
            )
        ],
    )
    return view.to_dict()


def _accounts_line(view: RequestView) -> str:
    shown = ", ".join(f"`{escape(a)}`" for a in view.sample)
    if view.account_count <= len(view.sample):
        return f"*Accounts ({view.account_count}):* {shown}"
    return f"*Accounts:* {view.account_count:,} (first {len(view.sample)}: {shown}, …)"


def _approval_line(view: RequestView) -> str:
    if view.status == PENDING_APPROVAL:
        so_far = ", ".join(f"<@{a}>" for a in view.approvers)
        if view.approvals_needed == 1:
            return ":hourglass: Needs 1 approval from an approver other than the requester."
        got = f" {len(view.approvers)} of {view.approvals_needed} so far ({so_far})." if so_far else ""
        return (
            f":hourglass: Needs {view.approvals_remaining} more approval(s): "
            f"{view.approvals_needed} different approvers, or one admin.{got}"
        )
    if view.status == REJECTED:
        return f":no_entry: Rejected by <@{view.decided_by}>: {user_text(view.rejection_reason or '', 500)}"
    if view.status == EXPIRED:
        return (
            ":hourglass_flowing_sand: *Expired:* nobody approved it within `enforcement.request_ttl`. "
            "Nothing was executed; ask again if it is still needed."
        )
    approvers = ", ".join(f"<@{a}>" for a in view.approvers)
    if view.status == APPROVED and view.manual:
        return (
            f":white_check_mark: Approved by {approvers}. Handed to Engineering: awaiting manual execution."
        )
    if view.status == APPROVED:
        return f":white_check_mark: Approved by {approvers}. Executing…"
    return f":white_check_mark: Approved by {approvers}. {outcome_counts(view)}"


def conflicts_text(view: RequestView) -> str:
    """Other open requests on the same accounts, for approvers to weigh before deciding."""
    lines = []
    for c in view.conflicts[:5]:
        shown = ", ".join(f"`{escape(a)}`" for a in c.sample)
        more = f" and {c.accounts - len(c.sample):,} more" if c.accounts > len(c.sample) else ""
        lines.append(f"• {c.ref} ({c.action}, {c.state}) is still open for {shown}{more}")
    if len(view.conflicts) > 5:
        lines.append(f"• …and {len(view.conflicts) - 5} more open request(s)")
    return ":warning: *Conflicting open request(s) on these accounts:*\n" + "\n".join(lines)


def outcome_counts(view: RequestView) -> str:
    past = PAST[view.action]
    parts = [f"{view.count(DONE):,} {past}"]
    if view.count(ALREADY):
        parts.append(f"{view.count(ALREADY):,} already {STATE[view.action]}")
    if view.count(FAILED):
        parts.append(f"{view.count(FAILED):,} failed")
    if view.count(RETRYABLE):
        parts.append(f"{view.count(RETRYABLE):,} failed (retryable)")
    if view.count(MANUAL):
        parts.append(f"{view.count(MANUAL):,} awaiting manual execution")
    return ", ".join(parts) + "."


def card(view: RequestView) -> tuple[str, list[dict[str, Any]]]:
    noun = "account" if view.account_count == 1 else "accounts"
    title = f"{view.ref} · {VERB[view.action]} {view.account_count:,} {noun}"
    lines = [
        f"*Requested by* {mention(view.requester)} · *Reason:* `{escape(view.reason_code)}`"
        + (f" · *Case:* {escape(view.case_ref)}" if view.case_ref else ""),
        _accounts_line(view),
    ]
    if view.duplicates_removed:
        lines.append(f"_{view.duplicates_removed} duplicate id(s) removed._")
    blocks: list[Any] = [header(title), section("\n".join(lines))]
    if view.evidence:
        blocks.append(section(f"*Evidence:*\n{user_text(view.evidence, 2800)}"))
    if view.note:
        blocks.append(section(f"*Note:*\n{user_text(view.note, 2800)}"))
    if view.checklist:
        ticks = [
            f"{':ballot_box_with_check:' if view.checklist.get(k) else ':x:'} {label}"
            for k, label in REINSTATE_CHECKS.items()
        ]
        ticks.append(f"*Root cause:* {user_text(str(view.checklist.get('root_cause', '')), 1000)}")
        blocks.append(section("\n".join(ticks)))
    if view.reverses_request_id:
        blocks.append(context(f"Reverses REQ-{view.reverses_request_id}."))
    if view.conflicts and view.status == PENDING_APPROVAL:
        blocks.append(section(conflicts_text(view)))
    advice = [
        f":bulb: {escape(r.get('text', ''))} _(rule `{escape(r.get('rule', ''))}`)_"
        for r in view.recommendations
    ]
    if view.second_review:
        advice.append(f":busts_in_silhouette: One more approval required: {escape(view.second_review)}")
    if advice:
        blocks.append(section("\n".join(advice)))
    if view.precheck:
        pre = view.precheck
        bits = [
            f"{pre.get('already', 0):,} already {STATE[view.action]}",
            f"{pre.get('unknown', 0):,} unknown",
        ]
        if pre.get("unknown_sample"):
            bits.append("unknown: " + ", ".join(f"`{escape(a)}`" for a in pre["unknown_sample"]))
        if pre.get("not_checked"):
            bits.append(f"{pre['not_checked']:,} could not be checked")
        blocks.append(context("Pre-check with the enforcement API: " + "; ".join(bits)))
    elif view.bulk and view.status == PENDING_APPROVAL:
        blocks.append(context("Pre-check with the enforcement API: running or unavailable."))
    blocks.append(divider())
    blocks.append(section(_approval_line(view)))
    if view.status == PENDING_APPROVAL:
        verb = VERB[view.action].lower()
        blocks.append(
            ActionsBlock(
                block_id=f"decide:{view.id}",
                elements=[
                    ButtonElement(
                        action_id=APPROVE_ACTION,
                        text="Approve",
                        style="primary",
                        value=str(view.id),
                        confirm=ConfirmObject(
                            title="Approve?",
                            text=f"{verb.capitalize()} {view.account_count:,} {noun} ({view.ref}).",
                            confirm=f"Yes, {verb}",
                            deny="Cancel",
                        ),
                    ),
                    ButtonElement(action_id=REJECT_ACTION, text="Reject", style="danger", value=str(view.id)),
                ],
            )
        )
    text = f"{title}: {STATUS_LABEL.get(view.status, view.status)}"
    return text, as_dicts(blocks)


def requester_text(view: RequestView, permalink: str | None, duplicates: list[str]) -> str:
    where = f"<{permalink}|{view.ref}>" if permalink else view.ref
    text = f"{where} ({VERB[view.action].lower()} {view.account_count:,}) is waiting for approval."
    if duplicates:
        shown = ", ".join(f"`{escape(d)}`" for d in duplicates[:5])
        more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        text += f" {len(duplicates)} duplicate id(s) were removed: {shown}{more}."
    return text


def decision_text(view: RequestView, by: str, final: bool) -> str:
    if view.status == REJECTED:
        return f":no_entry: <@{by}> rejected {view.ref}: {user_text(view.rejection_reason or '', 1000)}"
    if not final:
        return (
            f":ballot_box_with_check: <@{by}> approved {view.ref}. "
            f"It needs {view.approvals_remaining} more approval(s) (another approver, or an admin)."
        )
    if view.manual:
        return (
            f":white_check_mark: <@{by}> approved {view.ref}. No enforcement API is connected: "
            "the accounts were handed to Engineering to execute by hand. Nothing has been executed yet."
        )
    return f":white_check_mark: <@{by}> approved {view.ref}. Executing {view.account_count:,} account(s)…"


def result_line(result: ActionView) -> str:
    account = f"`{escape(result.account_id)}`"
    code = f" (HTTP {result.result_code})" if result.result_code else ""
    detail = f": {user_text(result.error, 300)}" if result.error else ""
    if result.status == DONE:
        return f":white_check_mark: {account} {PAST[result.action]}."
    if result.status == ALREADY:
        return f":information_source: {account} was already {STATE[result.action]}; nothing changed."
    if result.status == FAILED:
        return f":x: {account} failed{code}{detail}. Not retried (permanent)."
    if result.status == RETRYABLE:
        return (
            f":warning: {account} failed (retryable){code}{detail}: the enforcement API kept failing. "
            "Retry with the button or `vigil enforcement retry-failed`."
        )
    return f"{account}: {ACTION_LABEL.get(result.status, result.status)}"


def results_text(results: Iterable[ActionView]) -> str:
    return truncate("\n".join(result_line(r) for r in results), 3000)


def progress_text(view: RequestView) -> str:
    finished = view.count(DONE, ALREADY, FAILED, RETRYABLE)
    return f":gear: {view.ref}: {finished:,} of {view.account_count:,} processed. {outcome_counts(view)}" + (
        " Finished." if view.status == COMPLETED else ""
    )


def summary_blocks(summary: Summary) -> tuple[str, list[dict[str, Any]]]:
    view = summary.request
    text = f"{view.ref} finished: {outcome_counts(view)}"
    blocks: list[Any] = [section(f":checkered_flag: *{view.ref} finished.* {outcome_counts(view)}")]
    permanent = [f for f in summary.failures if f.status == FAILED]
    retryable = [f for f in summary.failures if f.status == RETRYABLE]
    if permanent:
        reasons: dict[str, int] = {}
        for failure in permanent:
            key = f"HTTP {failure.result_code}: {failure.error or 'failed'}"
            reasons[key] = reasons.get(key, 0) + 1
        lines = [f"• {user_text(reason, 200)}: {count:,}" for reason, count in sorted(reasons.items())]
        blocks.append(section("*Failed (permanent):*\n" + "\n".join(lines[:20])))
    if summary.failures:
        blocks.append(context("The failures are in the attached CSV."))
    if retryable:
        blocks.append(
            ActionsBlock(
                block_id=f"retry:{view.id}",
                elements=[
                    ButtonElement(
                        action_id=RETRY_ACTION,
                        text=f"Retry {len(retryable):,} failed (same idempotency keys)",
                        value=str(view.id),
                    )
                ],
            )
        )
    return text, as_dicts(blocks)


def failures_csv(failures: list[ActionView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["account_id", "action", "status", "http_status", "error", "attempts", "idempotency_key"])
    for f in failures:
        code, error = f.result_code or "", f.error or ""
        writer.writerow([f.account_id, f.action, f.status, code, error, f.attempts, f.idempotency_key])
    return out.getvalue().encode("utf-8")


def accounts_csv(accounts: list[str]) -> bytes:
    return ("account_id\n" + "\n".join(accounts) + "\n").encode("utf-8")


HANDOFF_INLINE = 30


def hand_off(view: RequestView, accounts: list[str]) -> tuple[str, list[dict[str, Any]]]:
    verb = VERB[view.action].lower()
    text = f"{view.ref}: please {verb} {len(accounts):,} account(s) by hand (approved, no enforcement API)"
    listed = "\n".join(f"`{escape(a)}`" for a in accounts[:HANDOFF_INLINE])
    more = ""
    if len(accounts) > HANDOFF_INLINE:
        more = f"\n…and {len(accounts) - HANDOFF_INLINE:,} more (full list attached)"
    approvers = ", ".join(f"<@{a}>" for a in view.approvers)
    blocks: list[Any] = [
        header(f"Manual enforcement: {view.ref}"),
        section(
            f"Vigil has no enforcement API connected, so these approved actions need an engineer.\n"
            f"*{VERB[view.action]}* {len(accounts):,} account(s) · reason `{escape(view.reason_code)}` · "
            f"requested by {mention(view.requester)} · approved by {approvers}"
        ),
        section(truncate(listed + more, 2900)),
        context(
            f"Use idempotency keys `vigil:{view.ref}:<account>:{view.action}` if your tooling takes them. "
            "Press the button only once every account is done."
        ),
        ActionsBlock(
            block_id=f"manual:{view.id}",
            elements=[
                ButtonElement(
                    action_id=MANUAL_DONE_ACTION,
                    text="Mark all done",
                    style="primary",
                    value=str(view.id),
                    confirm=ConfirmObject(
                        title="All executed?",
                        text=f"Record all {len(accounts):,} accounts of {view.ref} as {PAST[view.action]}.",
                        confirm="Yes, all done",
                        deny="Cancel",
                    ),
                )
            ],
        ),
    ]
    return text, as_dicts(blocks)


def manual_done_text(view: RequestView, engineer: str, count: int) -> str:
    return (
        f":white_check_mark: <@{engineer}> recorded {count:,} account(s) of {view.ref} as "
        f"{PAST[view.action]} by hand."
    )


def history(account_id: str, entries: list[HistoryEntry]) -> list[dict[str, Any]]:
    if not entries:
        return as_dicts([section(f"No enforcement history for `{escape(account_id)}`.")])
    lines = []
    for e in entries:
        approvers = ", ".join(f"<@{a}>" for a in e.approvers) or "nobody yet"
        when = e.requested_at.strftime("%Y-%m-%d %H:%M UTC")
        code = f" (HTTP {e.result_code})" if e.result_code else ""
        by = f" by <@{e.executed_by}>" if e.executed_by else ""
        reverses = f" · reverses REQ-{e.reverses_request_id}" if e.reverses_request_id else ""
        label = ACTION_LABEL.get(e.status, e.status)
        if e.status == CANCELLED:
            label = f"cancelled ({e.request_status})"  # rejected or expired
        lines.append(
            f"*{e.ref}* {when} · *{e.action}* · `{escape(e.reason_code)}` · "
            f"asked by {mention(e.requester)} · approved by {approvers} · *{label}*{code}{by}{reverses}"
            + (f" — {user_text(e.error, 200)}" if e.error else "")
        )
    blocks = [header(truncate(f"Enforcement history: {account_id}", 150)), section("\n".join(lines))]
    return as_dicts(blocks)


# --- refusals ------------------------------------------------------------------------------------------
def refusal_text(refused: Refused) -> str:
    """What the person who tried is told (ephemeral), from the refusal's code and fields."""
    ref, code = refused.request_ref, refused.code
    if isinstance(refused, OpenRequestConflict):
        return conflict_text(refused)
    if code == "not_found":
        return f"{ref} does not exist."
    if code == "own_request":
        if refused.step == "approve":
            return f"You asked for {ref}, so someone else must approve it (four-eyes)."
        if refused.step == "record":
            return f"You asked for {ref}, so someone else records that it was executed."
        return f"You asked for {ref}; another approver decides it (four-eyes)."
    if code == "not_engineer":
        return (
            "Only Vigil engineers (`roles.engineers`) or admins record manual execution. "
            "Ask a T&S admin to add you to `roles.engineers` in Vigil's config."
        )
    if code == "nothing_manual":
        return f"{ref} has nothing awaiting manual execution. Nothing changed."
    if code == "reason_required":
        return "Say why you reject it."
    if code == "approved_twice":
        return f"You already approved {ref}."
    if code == "expired":
        ttl = format_duration(refused.ttl) if refused.ttl is not None else "its time"
        return (
            f"{ref} expired: nobody approved it within {ttl} (enforcement.request_ttl). "
            "Nothing was executed; ask again if it is still needed."
        )
    # already_decided: pending means this person approved it already
    if refused.status == PENDING_APPROVAL:
        return (
            f"You already approved {ref}; it needs another approver "
            "(someone other than you and the requester) or an admin."
        )
    if refused.status == EXPIRED:
        return f"{ref} expired: nobody approved it in time. Nothing was executed or changed."
    by = f" by {mention(refused.decided_by)}" if refused.decided_by else ""
    word = "rejected" if refused.status == REJECTED else "approved"
    return f"{ref} was already {word}{by}. Nothing changed."


def conflict_text(conflict: OpenRequestConflict, links: dict[int, str] | None = None) -> str:
    """Accounts already asked for, and the open requests they are in. Plain text (the modal's
    inline errors are plain): ``links`` (request id → permalink) makes each request findable."""
    links = links or {}

    def named(rid: int) -> str:
        link = links.get(rid)
        return f"{request_ref(rid)} ({link})" if link else request_ref(rid)

    if len(conflict.conflicts) == 1:
        only = conflict.conflicts[0]
        return (
            f"{only.account_id} already has an open {conflict.action} request: {named(only.request_id)}, "
            f"{only.state}. Nothing was created; follow that request instead of asking again."
        )
    shown = ", ".join(f"{c.account_id} ({c.ref})" for c in conflict.conflicts[:5])
    more = f" and {len(conflict.conflicts) - 5:,} more" if len(conflict.conflicts) > 5 else ""
    requests = conflict.requests
    listed = "; ".join(f"{named(r.request_id)}, {r.state}" for r in requests[:3])
    if len(requests) > 3:
        listed += f"; and {len(requests) - 3} more request(s)"
    return (
        f"{len(conflict.conflicts):,} accounts already have an open {conflict.action} request: "
        f"{shown}{more}. Open: {listed}. Nothing was created; remove those accounts and submit again."
    )

"""The approval card: what is asked, by whom, its state, its conflicts and its buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
)

from commands.blocks.common import (
    as_dicts,
    context,
    divider,
    escape,
    header,
    mention,
    section,
    user_text,
)
from commands.blocks.enforcement.labels import APPROVE_ACTION, PAST, REJECT_ACTION, STATE, STATUS_LABEL, VERB
from store.enforcement import (
    ALREADY,
    APPROVED,
    DONE,
    EXPIRED,
    FAILED,
    MANUAL,
    PENDING_APPROVAL,
    REJECTED,
    RETRYABLE,
)
from workflows.enforcement import (
    REINSTATE_CHECKS,
    RequestView,
)


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


STATEMENT_STATUS = {
    "drafted": "draft",
    "frozen": "final",
    "submitted": "submitted",
    "failed": "failed, retrying",
    "blocked": "blocked: personal data",
}


def statement_text(view: RequestView) -> str:
    """The statement of reasons (DSA) as the approver approves it: its facts and its key fields."""
    s = view.statement or {}
    status = ", ".join(f"{n:,} {STATEMENT_STATUS.get(k, k)}" for k, n in sorted(view.statements.items()))
    ground = s.get("illegal_content_legal_ground") or s.get("incompatible_content_ground") or ""
    lines = [
        f"*Statement of reasons* ({status})",
        f"*Category:* `{escape(str(s.get('category', '')))}` · *Ground:* {escape(str(ground))}",
        f"*Source:* `{escape(str(s.get('source_type', '')))}` · *Automated detection:* "
        f"{escape(str(s.get('automated_detection', '')))}",
        f"*Facts:* {user_text(str(s.get('decision_facts', '')), 1500)}",
    ]
    return "\n".join(lines)


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
    if view.statement is not None:
        blocks.append(section(statement_text(view)))
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

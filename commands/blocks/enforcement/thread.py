"""What goes in the approval card's thread: the requester's link, decisions, per-account
results, bulk progress and summary (with CSVs), and the engineering hand-off."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
)

from commands.blocks.common import (
    as_dicts,
    context,
    escape,
    header,
    mention,
    section,
    truncate,
    user_text,
)
from commands.blocks.enforcement.card import outcome_counts
from commands.blocks.enforcement.labels import (
    ACTION_LABEL,
    MANUAL_DONE_ACTION,
    PAST,
    RETRY_ACTION,
    STATE,
    VERB,
)
from commands.blocks.handoff import engineering_button
from store.enforcement import (
    ALREADY,
    COMPLETED,
    DONE,
    FAILED,
    REJECTED,
    RETRYABLE,
)
from workflows.enforcement import (
    ActionView,
    RequestView,
    Summary,
)


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
                ),
                # A tooling gap that needs manual support becomes a tracked ticket.
                engineering_button(
                    "enforcement",
                    view.ref,
                    f"No enforcement tooling: {len(accounts):,} approved {verb} action(s) of {view.ref} "
                    "need manual execution.",
                ),
            ],
        ),
    ]
    return text, as_dicts(blocks)


def manual_done_text(view: RequestView, engineer: str, count: int) -> str:
    return (
        f":white_check_mark: <@{engineer}> recorded {count:,} account(s) of {view.ref} as "
        f"{PAST[view.action]} by hand."
    )

"""The /suspend and /reinstate modal, and the reject modal."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from commands.blocks.common import (
    clip,
    escape,
    section,
    slack_len,
    truncate,
)
from commands.blocks.enforcement.labels import INPUT_MAX, REJECT_CALLBACK, REQUEST_CALLBACK, VALUE, VERB
from workflows.config import EnforcementSettings
from workflows.enforcement import (
    REINSTATE_CHECKS,
)


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
    facts: bool = False,
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
    if action == "suspend" and facts:
        blocks.append(
            InputBlock(
                block_id="decision_facts",
                label="Statement of reasons: the facts (public, no personal data)",
                optional=True,
                hint="Left empty, Vigil writes them from the evidence and note with personal data removed; "
                "the approver sees the final text on the card.",
                element=_plain_input("What the account did, without names, emails or ids", max_length=5000),
            )
        )
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

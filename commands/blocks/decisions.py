"""Block Kit of the decisions concept: the appeal message (its deadline and its Uphold /
Overturn buttons), the uphold modal, and the wording of appeal refusals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from commands.blocks.common import as_dicts, context, header, mention, section, truncate, user_text
from workflows.decisions.appeals import AppealView
from workflows.decisions.errors import AppealRefused

UPHOLD_ACTION, OVERTURN_ACTION, UPHOLD_CALLBACK = "appeal_uphold", "appeal_overturn", "appeal_uphold"
VALUE = "value"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def appeal_message(appeal: AppealView) -> tuple[str, list[dict[str, Any]]]:
    title = f"Appeal {appeal.appeal_id}: {appeal.account_id} contests {appeal.request_ref}"
    lines = [
        f"*Account:* `{user_text(appeal.account_id, 64)}` · *Action:* {appeal.request_ref} (suspend, "
        f"`{appeal.reason_code}`) asked by {mention(appeal.requester)}, approved by "
        + (", ".join(mention(a) for a in appeal.approvers) or "nobody"),
        f"*Decide by:* {_when(appeal.due_at)} (`sla.appeal`)",
        f"*The user says:*\n{user_text(appeal.text, 2000)}",
    ]
    if appeal.links:
        lines.append("*Links:* " + " ".join(user_text(link, 300) for link in appeal.links[:10]))
    blocks: list[Any] = [header(truncate(title, 150)), section("\n".join(lines))]
    if appeal.late:
        blocks.append(
            context(":warning: Received after the appeal window (six months): accepted, flagged as late.")
        )
    if appeal.outcome is None:
        blocks.append(context("Decided by someone who neither asked for nor approved the original action."))
        blocks.append(
            ActionsBlock(
                block_id=f"appeal:{appeal.appeal_id}",
                elements=[
                    ButtonElement(action_id=UPHOLD_ACTION, text="Uphold", value=appeal.appeal_id),
                    ButtonElement(
                        action_id=OVERTURN_ACTION, text="Overturn", style="danger", value=appeal.appeal_id
                    ),
                ],
            )
        )
    else:
        blocks.append(section(decided_text(appeal)))
    return title, as_dicts(blocks)


def decided_text(appeal: AppealView) -> str:
    verb = "Upheld" if appeal.outcome == "upheld" else "Overturned"
    via = f" through REQ-{appeal.reinstatement_request_id}" if appeal.reinstatement_request_id else ""
    return (
        f"*{verb}*{via} by {mention(appeal.decided_by)}: {user_text(appeal.reason or '', 1000)} "
        "_(the platform is told)_"
    )


def uphold_modal(appeal: AppealView, channel: str | None) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=UPHOLD_CALLBACK,
        title="Uphold the decision",
        submit="Uphold",
        close="Cancel",
        private_metadata=json.dumps({"appeal_id": appeal.appeal_id, "channel": channel}),
        blocks=[
            section(f"{appeal.request_ref} stays in force for `{user_text(appeal.account_id, 64)}`."),
            InputBlock(
                block_id="reason",
                label="Why (sent to the user as the appeal's outcome)",
                element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=2000),
            ),
        ],
    ).to_dict()


def appeal_refusal(exc: AppealRefused) -> str:
    f = exc.fields
    words = {
        "not_independent": (
            f"You {f.get('role')} {f.get('request')}: an appeal against it is decided by someone else."
        ),
        "appeal_decided": f"Appeal {f.get('appeal_id')} is already decided"
        + (f" ({f['outcome']} by {mention(f['by'])})." if f.get("outcome") else "."),
        "appeal_not_found": f"There is no appeal {f.get('appeal_id')}.",
        "overturn_pending": (
            f"Appeal {f.get('appeal_id')} is being overturned by {f.get('request')}, awaiting approval."
        ),
        "reason_required": "Say why the decision stands.",
    }
    return words.get(exc.code, f"Refused: {exc}")

"""Block Kit of the decisions concept: the appeal message (its deadline and its Uphold /
Overturn buttons), the uphold modal, and the wording of appeal refusals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from commands.blocks.common import as_dicts, context, header, mention, section, truncate, user_text
from workflows.decisions.appeals import AppealView
from workflows.decisions.errors import AppealRefused
from workflows.decisions.qa import QaItemView

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
        + (
            "_(raised in Slack: the platform is not told; answer the user where the appeal came in)_"
            if appeal.internal
            else "_(the platform is told)_"
        )
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
        "qa_not_yours": "This re-review was given to someone else.",
        "qa_answered": "This re-review is answered already.",
        "qa_not_found": "There is no such re-review.",
        "qa_not_escalable": "Only a disagreement on an enforcement action can be escalated.",
    }
    return words.get(exc.code, f"Refused: {exc}")


# --- QA re-reviews -------------------------------------------------------------------------------------
QA_OPEN_ACTION, QA_CALLBACK = "qa_review_open", "qa_review"
ACTION_OUTCOMES = {"actioned": "Suspend the account", "no_action": "No action"}


def qa_dm(review: QaItemView) -> tuple[str, list[dict[str, Any]]]:
    text = f"QA: please re-review {review.ref} (blind: the original decision is shown after you answer)"
    return text, as_dicts(
        [
            section(
                f"*QA re-review* · {review.ref}\nDecide it as you would have; the original is shown after."
            ),
            ActionsBlock(
                block_id=f"qa:{review.id}",
                elements=[
                    ButtonElement(
                        action_id=QA_OPEN_ACTION, text="Re-review", style="primary", value=str(review.id)
                    )
                ],
            ),
        ]
    )


def _select(block_id: str, label: str, options: dict[str, str]) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(
            action_id=VALUE, options=[Option(value=k, text=truncate(v, 75)) for k, v in options.items()]
        ),
    )


def qa_modal(review: QaItemView, outcomes: dict[str, str], categories: dict[str, str]) -> dict[str, Any]:
    """The item without its decision: the reviewer decides outcome and category themselves."""
    return View(
        type="modal",
        callback_id=QA_CALLBACK,
        title="QA re-review",
        submit="Answer",
        close="Later",
        private_metadata=json.dumps({"review": review.id}),
        blocks=[
            section(f"*{review.ref}*\n{user_text(review.details, 2500)}"),
            _select("outcome", "What would you have decided?", outcomes),
            _select("category", "Which category is it?", categories),
            _select("would_action", "Would you have actioned the account?", {"yes": "Yes", "no": "No"}),
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=1000),
            ),
        ],
    ).to_dict()


QA_ESCALATE_ACTION = "qa_escalate"


def qa_reveal_blocks(review: QaItemView) -> list[dict[str, Any]]:
    blocks: list[Any] = [section(qa_reveal(review))]
    if review.kind == "action" and review.agreed is False:
        blocks.append(
            ActionsBlock(
                block_id=f"qa-escalate:{review.id}",
                elements=[
                    ButtonElement(
                        action_id=QA_ESCALATE_ACTION,
                        text="Escalate to an appeal review",
                        value=str(review.id),
                    )
                ],
            )
        )
    return as_dicts(blocks)


def qa_reveal(review: QaItemView) -> str:
    agreed = "You agreed" if review.agreed else "You disagreed"
    return (
        f"QA {review.ref}: {agreed}. Original decision: {review.outcome} ({review.category}) by "
        f"{mention(review.decider)}; yours: {review.answer_outcome} ({review.answer_category})."
    )


def qa_queue(reviews: list[QaItemView]) -> list[Any]:
    """The App Home's "QA queue": re-reviews waiting for this person, each with its button."""
    blocks: list[Any] = [header("QA queue")]
    for review in reviews[:5]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*{review.ref}* · blind re-review"),
                accessory=ButtonElement(action_id=QA_OPEN_ACTION, text="Re-review", value=str(review.id)),
            )
        )
    if len(reviews) > 5:
        blocks.append(context(f"…and {len(reviews) - 5} more."))
    return blocks

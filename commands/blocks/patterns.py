"""Block Kit for abuse patterns: the alert with its four buttons, the Name it modal, the drafted
rule with its backtest, and the wording of every answer to a click."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from commands.blocks.cases import slack_date
from commands.blocks.common import as_dicts, clip, context, escape, mention, section, truncate, user_text
from commands.blocks.handoff import engineering_button
from workflows.patterns import ActionResult, PatternView, RuleDraft

NAME_MAX = 200


def alert_text(pattern: PatternView) -> str:
    """Notification text: escaped (labels and names come from user text), never a ping."""
    return escape(pattern.summary())


def alert_blocks(pattern: PatternView) -> list[dict[str, Any]]:
    blocks: list[Block] = [
        section(f":jigsaw: *New abuse pattern {pattern.ref}* · {escape(pattern.kind_label)}"),
        section(f"*{user_text(pattern.title, 500)}*"),
        context(
            f"{pattern.size} items from {pattern.account_count} accounts · {escape(pattern.growth)} · "
            f"first seen {slack_date(pattern.first_seen)}, last {slack_date(pattern.last_seen)}"
        ),
    ]
    if pattern.name:
        blocks.append(
            context(f"Named by {mention(pattern.named_by)} · label: {user_text(pattern.label, 300)}")
        )
    for example in pattern.examples[:3]:
        blocks.append(section("> " + clip(escape(" ".join(example.split())), 400)))
    if pattern.top_accounts:
        accounts = ", ".join(f"`{escape(a['account_id'])}` ({a['count']})" for a in pattern.top_accounts)
        blocks.append(context(f"Top accounts: {accounts}"))
    if pattern.outcomes is not None:
        o = pattern.outcomes
        linked = f" · named by {', '.join(o.linked)}" if o.linked else ""
        blocks.append(
            context(f"Accounts actioned {o.actioned}, reversed {o.reversed}, still active {o.active}{linked}")
        )
    if pattern.feedback == "not_abuse":
        blocks.append(context(f"*Not abuse* · {mention(pattern.feedback_by)}"))
    else:
        value = str(pattern.id)
        buttons = [ButtonElement(text="Name it", action_id="pattern_name", value=value)]
        if pattern.top_accounts:
            buttons.append(
                ButtonElement(
                    text="Open investigation", action_id="pattern_investigate", value=value, style="primary"
                )
            )
        buttons += [
            ButtonElement(text="Draft a rule", action_id="pattern_draft_rule", value=value),
            ButtonElement(text="Not abuse", action_id="pattern_not_abuse", value=value, style="danger"),
            engineering_button(
                "pattern",
                pattern.ref,
                f"{pattern.ref}: {pattern.size} items from {pattern.account_count} accounts",
            ),
        ]
        blocks.append(ActionsBlock(block_id=f"pattern:{pattern.id}", elements=buttons))
    blocks.append(context(f"{pattern.ref} · `vigil patterns show {pattern.ref}`"))
    return as_dicts(blocks)


def name_modal(pattern: PatternView, channel: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id="pattern_name",
        title=truncate(f"Name {pattern.ref}", 24),
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"pattern_id": pattern.id, "channel": channel}),
        blocks=[
            section(f"Label so far: {user_text(pattern.label, 500)}"),
            InputBlock(
                block_id="name",
                label="Name",
                element=PlainTextInputElement(
                    action_id="name",
                    max_length=NAME_MAX,
                    initial_value=truncate(pattern.name, NAME_MAX) if pattern.name else None,
                ),
            ),
        ],
    )
    return view.to_dict()


def reply_for(result: ActionResult, action: str) -> str:
    pattern = result.pattern
    if result.outcome == "not_found" or (pattern is None and result.outcome != "refused"):
        return "That pattern no longer exists."
    if result.outcome == "refused":
        return f"Not done: {escape(result.detail)}."
    assert pattern is not None
    if action == "not_abuse":
        if result.outcome == "already":
            return f"{pattern.ref} was already marked not abuse by {mention(pattern.feedback_by)}."
        return f"Marked {pattern.ref} as not abuse: it will not be posted again."
    if action == "name":
        return f"{pattern.ref} is now called “{escape(pattern.title)}”."
    if action == "investigate":
        if result.outcome == "already":
            return f"{escape(result.detail)} is already open for {pattern.ref}'s top account."
        return f"Opened {escape(result.detail)} for {pattern.ref}'s top account; it is being posted here."
    return "Noted."


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def draft_blocks(pattern: PatternView, draft: RuleDraft, can_save: bool) -> list[dict[str, Any]]:
    blocks: list[Block] = [
        section(f":memo: *Rule drafted from {pattern.ref}* · `{escape(draft.rule_id)}` (shadow)"),
        section(f"```{clip(escape(draft.condition), 2800)}```"),
        context(
            f"Backtest on the last 30 days: matched {draft.matched}, precision {_ratio(draft.precision)}, "
            f"recall {_ratio(draft.recall)} ({draft.true_positives} right, {draft.false_positives} wrong, "
            f"{draft.false_negatives} missed, {draft.unlabelled} not yet judged)"
        ),
    ]
    if draft.wrong:
        wrong = ", ".join(
            f"{w.case} ({', '.join(f'`{escape(a)}`' for a in w.accounts[:3]) or 'no account'})"
            for w in draft.wrong
        )
        blocks.append(context(f"Would have hit wrongly: {wrong}"))
    if can_save and draft.saved_path is None:
        blocks.append(
            ActionsBlock(
                block_id=f"pattern_rule:{draft.id}",
                elements=[
                    ButtonElement(
                        text="Save to playbooks (shadow)", action_id="pattern_save_rule", value=str(draft.id)
                    )
                ],
            )
        )
    elif draft.saved_path is None:
        blocks.append(context("An admin can save it to the playbooks folder in shadow mode."))
    return as_dicts(blocks)


def draft_text(pattern: PatternView, draft: RuleDraft) -> str:
    return (
        f"Rule {draft.rule_id} drafted from {pattern.ref}: precision {_ratio(draft.precision)}, "
        f"recall {_ratio(draft.recall)}"
    )


def save_reply(outcome: str, draft: RuleDraft | None) -> str:
    if draft is None:
        return "That draft no longer exists."
    if outcome == "saved":
        where = escape(draft.saved_path or "")
        return f"Saved `{escape(draft.rule_id)}` to `{where}` in shadow mode; it loads on the next reload."
    if outcome == "already":
        return f"`{escape(draft.rule_id)}` was already saved to `{escape(draft.saved_path or '')}`."
    if outcome == "exists":
        return f"Not saved: a playbook file named `{escape(draft.rule_id)}.yaml` is already there."
    return "Not saved: the playbooks folder would no longer load with it (see `vigil rules check`)."

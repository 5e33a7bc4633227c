"""Block Kit for anomaly alerts."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from commands.blocks.cases import slack_date
from commands.blocks.common import as_dicts, context, escape, section
from commands.blocks.handoff import engineering_button
from workflows.anomalies import FEEDBACK, AnomalyView, FeedbackResult

KIND_EMOJI = {"spike": ":chart_with_upwards_trend:", "drop": ":chart_with_downwards_trend:"}
DEFAULT_EMOJI = ":twisted_rightwards_arrows:"


def alert_text(anomaly: AnomalyView) -> str:
    """Notification text: escaped (attribute values come from clients), never a ping."""
    return escape(anomaly.summary())


def alert_blocks(anomaly: AnomalyView) -> list[dict[str, Any]]:
    emoji = KIND_EMOJI.get(anomaly.kind, DEFAULT_EMOJI)
    blocks: list[Block] = [section(f"{emoji} *{anomaly.kind_label}* · `{escape(anomaly.series)}`")]
    blocks.append(section(escape(anomaly.summary())))
    history = anomaly.data.get("history") or []
    if history:
        shown = ", ".join(f"{h:g}" for h in history)
        blocks.append(context(f"Same hour in the previous {len(history)} week(s): {shown}"))
    if anomaly.kind == "new_contributor" and anomaly.data.get("previous_top"):
        previous = ", ".join(escape(str(v)) for v in anomaly.data["previous_top"][:5])
        blocks.append(context(f"Top before: {previous}"))
    top = anomaly.top_accounts
    if top:
        accounts = ", ".join(f"`{escape(a['account_id'])}` ({a['count']})" for a in top)
        blocks.append(context(f"Top accounts that hour: {accounts}"))
    if anomaly.feedback:
        label = FEEDBACK.get(anomaly.feedback, anomaly.feedback)
        until = f" until {slack_date(anomaly.snoozed_until)}" if anomaly.snoozed_until else ""
        blocks.append(context(f"*{label}*{until} · <@{anomaly.feedback_by}>"))
    buttons = []
    if top:
        buttons.append(
            ButtonElement(
                text="Open investigation",
                action_id="anomaly_investigate",
                value=str(anomaly.id),
                style="primary",
            )
        )
    if anomaly.feedback not in ("snoozed", "not_an_issue"):
        buttons += [
            ButtonElement(text="Snooze 24h", action_id="anomaly_snooze", value=str(anomaly.id)),
            ButtonElement(text="Not an issue", action_id="anomaly_dismiss", value=str(anomaly.id)),
        ]
    buttons.append(engineering_button("anomaly", anomaly.ref, anomaly.summary()))
    if buttons:
        blocks.append(ActionsBlock(block_id=f"anomaly:{anomaly.id}", elements=buttons))
    blocks.append(context(f"{anomaly.ref} · detected {slack_date(anomaly.detected_at)}"))
    return as_dicts(blocks)


def feedback_reply(result: FeedbackResult) -> str:
    if result.outcome == "not_found" or result.anomaly is None:
        return "That anomaly no longer exists."
    anomaly = result.anomaly
    if result.outcome == "already":
        return (
            f"{anomaly.ref} already has feedback: {FEEDBACK.get(anomaly.feedback or '', anomaly.feedback)}."
        )
    if result.outcome == "snoozed":
        return f"Snoozed {anomaly.ref} for 24h: the same series will not be posted again until then."
    if result.outcome == "not_an_issue":
        return f"Marked {anomaly.ref} as not an issue. Thanks: this tunes what Vigil flags."
    return "Noted."

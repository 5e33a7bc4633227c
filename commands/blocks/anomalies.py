"""Block Kit for anomaly incidents: the card (updated in place), its closing reply, the daily
summary of what went over a series' alert budget, and the replies to the buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from commands.blocks.cases import slack_date
from commands.blocks.common import as_dicts, context, escape, section
from commands.blocks.handoff import engineering_button
from workflows.anomalies import FEEDBACK, BudgetView, FeedbackResult, IncidentView, ShapeView

KIND_EMOJI = {"spike": ":chart_with_upwards_trend:", "drop": ":chart_with_downwards_trend:"}
DEFAULT_EMOJI = ":twisted_rightwards_arrows:"
EXPECTED_EMOJI = ":calendar:"
SUMMARY_SHOWN = 20
HOUR = timedelta(hours=1)


def alert_text(incident: IncidentView) -> str:
    """Notification text: escaped (attribute values and calendar labels come from outside),
    never a ping; an expected incident says so first."""
    return escape(incident.summary())


def alert_blocks(incident: IncidentView) -> list[dict[str, Any]]:
    emoji = EXPECTED_EMOJI if incident.expected else KIND_EMOJI.get(incident.kind, DEFAULT_EMOJI)
    head = f"{emoji} *{incident.kind_label}* · `{escape(incident.series)}`"
    if incident.expected:
        head += f" · expected: {escape(incident.expected)}"
    blocks: list[Block] = [section(head), section(escape(incident.summary()))]
    state = incident.state_line()
    blocks.append(context(f"*{state}*" if incident.state == "closed" else state))
    history = incident.data.get("history") or []
    if history:
        shown = ", ".join(f"{h:g}" for h in history)
        blocks.append(context(f"At the peak, the same hour in the previous {len(history)} week(s): {shown}"))
    if incident.kind == "new_contributor" and incident.data.get("previous_top"):
        previous = ", ".join(escape(str(v)) for v in incident.data["previous_top"][:5])
        blocks.append(context(f"Top before: {previous}"))
    top = incident.top_accounts
    if top:
        accounts = ", ".join(f"`{escape(a['account_id'])}` ({a['count']})" for a in top)
        blocks.append(context(f"Top accounts at the peak: {accounts}"))
    if incident.feedback:
        label = FEEDBACK.get(incident.feedback, incident.feedback)
        until = f" until {slack_date(incident.snoozed_until)}" if incident.snoozed_until else ""
        blocks.append(context(f"*{label}*{until} · <@{incident.feedback_by}>"))
    if incident.shape is not None:
        blocks.append(context(shape_line(incident.shape)))
    buttons = []
    if top:
        buttons.append(
            ButtonElement(
                text="Open investigation",
                action_id="anomaly_investigate",
                value=str(incident.id),
                style="primary",
            )
        )
    if incident.feedback not in ("snoozed", "not_an_issue"):
        buttons += [
            ButtonElement(text="Snooze 24h", action_id="anomaly_snooze", value=str(incident.id)),
            ButtonElement(text="Not an issue", action_id="anomaly_dismiss", value=str(incident.id)),
        ]
    if incident.shape is not None and incident.shape.active:
        buttons.append(
            ButtonElement(
                text="Restore sensitivity", action_id="anomaly_restore", value=str(incident.shape.id)
            )
        )
    buttons.append(engineering_button("anomaly", incident.ref, incident.summary()))
    if buttons:
        blocks.append(ActionsBlock(block_id=f"anomaly_incident:{incident.id}", elements=buttons))
    blocks.append(context(f"{incident.ref} · opened {slack_date(incident.opened_at)}"))
    return as_dicts(blocks)


def shape_line(shape: ShapeView) -> str:
    if shape.active:
        return (
            f"Recurring shape remembered (shape {shape.id}, {shape.when()}): alerts there only past "
            f"score {shape.min_score:g} · <@{shape.created_by}> {slack_date(shape.created_at)}"
        )
    assert shape.forgotten_at is not None
    return (
        f"Recurring shape {shape.id} forgotten, usual sensitivity restored · "
        f"<@{shape.forgotten_by}> {slack_date(shape.forgotten_at)}"
    )


def closed_text(incident: IncidentView) -> str:
    closed = slack_date(incident.closed_at) if incident.closed_at else "now"
    back = slack_date(incident.last_hour + HOUR)
    return (
        f"Closed {closed}: {escape(incident.series)} has been back within bounds since {back}. "
        f"{incident.hours} anomalous hour(s) over {incident.duration_hours}h, "
        f"peak score {incident.peak_score:+.1f}."
    )


def budget_text(budget: BudgetView) -> str:
    return (
        f"{escape(budget.series)}: {len(budget.overflow)} more incident(s) on {budget.day:%Y-%m-%d} "
        f"past the day's {budget.posted} alert(s), stored without posting"
    )


def budget_blocks(budget: BudgetView) -> list[dict[str, Any]]:
    blocks: list[Block] = [
        section(
            f":mute: *Alert budget reached* · `{escape(budget.series)}` · {budget.day:%Y-%m-%d}\n"
            f"{budget.posted} incident(s) posted today; {len(budget.overflow)} more stored without posting:"
        )
    ]
    lines = [f"• {escape(i.summary())} ({i.ref})" for i in budget.overflow[:SUMMARY_SHOWN]]
    if len(budget.overflow) > SUMMARY_SHOWN:
        lines.append(
            f"… and {len(budget.overflow) - SUMMARY_SHOWN} more (`vigil anomalies detect` lists them)"
        )
    blocks.append(section("\n".join(lines)))
    return as_dicts(blocks)


def feedback_reply(result: FeedbackResult) -> str:
    incident, shape = result.incident, result.shape
    if result.outcome == "not_found":
        return "That incident (or shape) no longer exists."
    if result.outcome == "restored" and shape is not None:
        return (
            f"Restored the usual sensitivity of {escape(shape.series)} in {shape.when()} (shape {shape.id})."
        )
    if result.outcome == "already":
        if incident is not None:
            label = FEEDBACK.get(incident.feedback or "", incident.feedback)
            return f"{incident.ref} already has an answer: {label}."
        return "That shape was already forgotten: the usual sensitivity is in place."
    assert incident is not None
    if result.outcome == "snoozed":
        return f"Snoozed {incident.ref} for 24h: new incidents of this series will not be posted until then."
    if result.outcome == "not_an_issue" and shape is not None:
        return (
            f"Marked {incident.ref} as not an issue. It recurs in the same hours, so Vigil remembers the "
            f"shape ({shape.when()}) and alerts there only past score {shape.min_score:g}. "
            "Restore sensitivity on the card undoes it."
        )
    if result.outcome in ("not_an_issue", "not_remembered"):
        return f"Marked {incident.ref} as not an issue. Thanks: this tunes what Vigil flags."
    return "Noted."

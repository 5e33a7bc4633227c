"""Blocks for the hand-off to Engineering: the Send to Engineering button, its modal, and
the requirement as posted in the engineering channel when Jira is not configured."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from commands.blocks.common import as_dicts, context, escape, header, mention, section, truncate
from workflows.handoff import HandoffView
from workflows.reports.views import HandoffWeek

ACTION = "handoff_open"
CALLBACK = "handoff_submit"
PRIORITIES = {"P1": "P1 · urgent", "P2": "P2 · high", "P3": "P3 · normal", "P4": "P4 · low"}
PREFILL_MAX = 1500  # a button's value holds at most 2000 characters


def engineering_button(subject_type: str, ref: str, problem: str = "") -> ButtonElement:
    value = json.dumps({"type": subject_type, "ref": ref, "problem": problem[:PREFILL_MAX]})
    return ButtonElement(text="Send to Engineering", action_id=ACTION, value=value)


def _input(
    block_id: str,
    label: str,
    initial: str,
    *,
    multiline: bool = True,
    optional: bool = True,
    limit: int = 3000,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=PlainTextInputElement(
            action_id=block_id, multiline=multiline, max_length=limit, initial_value=initial[:limit] or None
        ),
    )


def requirement_modal(
    subject_type: str, ref: str, prefill: dict[str, str], meta: dict[str, Any]
) -> dict[str, Any]:
    """The requirement, prefilled: problem, evidence (the ref and where it was raised), impact,
    suggested mitigation, priority."""
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title="Send to Engineering",
        submit="Send",
        close="Cancel",
        private_metadata=json.dumps({**meta, "type": subject_type, "ref": ref}),
        blocks=[
            section(
                f"A requirement about *{escape(ref)}* for Engineering (Jira, or the engineering channel)."
            ),
            _input("title", "Title", prefill.get("title", ""), multiline=False, optional=False, limit=200),
            _input("problem", "Problem", prefill.get("problem", ""), optional=False),
            _input(
                "evidence", "Evidence (links, CASE-n / INV-n / PAT-n, figures)", prefill.get("evidence", "")
            ),
            _input(
                "impact", "Impact in numbers (accounts, volume, detection delay)", prefill.get("impact", "")
            ),
            _input("mitigation", "Suggested mitigation", prefill.get("mitigation", "")),
            InputBlock(
                block_id="priority",
                label="Priority",
                element=StaticSelectElement(
                    action_id="priority",
                    options=[Option(value=k, text=v) for k, v in PRIORITIES.items()],
                    initial_option=Option(value="P3", text=PRIORITIES["P3"]),
                ),
            ),
        ],
    )
    return view.to_dict()


def requirement_post(handoff: HandoffView) -> tuple[str, list[dict[str, Any]]]:
    text = f"Requirement for Engineering {handoff.ref}: {handoff.title}"
    parts = [
        ("Problem", handoff.problem),
        ("Evidence", handoff.evidence),
        ("Impact", handoff.impact),
        ("Suggested mitigation", handoff.mitigation),
    ]
    blocks: list[Any] = [header(truncate(f"{handoff.ref} · {handoff.title}", 150))]
    blocks += [section(f"*{name}*\n{truncate(escape(value), 2900)}") for name, value in parts if value]
    blocks.append(
        context(
            f"{handoff.priority} · about {escape(handoff.subject_ref)} · "
            f"from {mention(handoff.requested_by)} · Jira is not configured, so it is posted here"
        )
    )
    return text, as_dicts(blocks)


def digest_handoff_text(week: HandoffWeek | None) -> str:
    if week is None:
        return "*Hand-offs to Engineering* · not tracked here."
    lines = ["*Hand-offs to Engineering*"]
    if week.open:
        lines += [
            f"• {ref} {escape(truncate(title, 80))}"
            + (f" · {escape(key)}" if key else " · not ticketed yet")
            + f" · open {age:g} h"
            for ref, title, key, age in week.open
        ]
    else:
        lines.append("• none open")
    manual = f"Manual enforcement (no tooling): {week.manual_executed:,} action(s) executed by hand this week"
    if week.manual_executed:
        manual += (
            f", median wait {week.manual_median_wait_hours:g} h, longest {week.manual_max_wait_hours:g} h"
        )
    if week.manual_waiting:
        manual += f"; {week.manual_waiting:,} still waiting (oldest {week.manual_oldest_wait_hours:g} h)"
    lines.append(manual)
    if week.review_url:
        lines.append(f"<{week.review_url}|This week's review in Confluence>")
    return truncate("\n".join(lines), 2900)


def handoff_line(h: HandoffView) -> str:
    if h.ticket_key and h.ticket_url:
        where = f"<{h.ticket_url}|{escape(h.ticket_key)}> · {escape(h.ticket_status or 'created')}"
    elif h.status == "posted":
        where = "posted in the engineering channel"
    else:
        where = "not in Jira yet" + (f" ({escape(truncate(h.last_error, 120))})" if h.last_error else "")
    return f"• *{h.ref}* {escape(truncate(h.title, 100))} · about {escape(h.subject_ref)} · {where}"


def handoffs_text(handoffs: list[HandoffView], about: str | None) -> str:
    if not handoffs:
        return f"No hand-offs to Engineering{f' about {escape(about)}' if about else ' open'}."
    head = f"*Hand-offs to Engineering{f' about {escape(about)}' if about else ', open, oldest first'}*"
    return truncate("\n".join([head, *(handoff_line(h) for h in handoffs[:20])]), 2900)


def handoff_section(handoffs: list[HandoffView]) -> list[dict[str, Any]]:
    """A case's or investigation's hand-offs, as one section (nothing when there are none)."""
    if not handoffs:
        return []
    lines = ["*Engineering*", *(handoff_line(h) for h in handoffs[:10])]
    return as_dicts([section(truncate("\n".join(lines), 2900))])

"""Block Kit for what the AI features show: a summary posted in a thread, labelled by who
wrote it (the model, or the extractive summary and why)."""

from __future__ import annotations

import re
from typing import Any

from commands.blocks.common import as_dicts, clip, context, escape, section
from workflows.ai import SummaryView

# A restored mention (<@U…>) may show as one; everything else of the model's text is escaped.
_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,})&gt;")


def model_text(text: str, limit: int = 2900) -> str:
    return clip(_ESCAPED_MENTION.sub(r"<@\1>", escape(text)), limit)


def summary_label(view: SummaryView) -> str:
    label = view.by.label
    if view.by.truncated:
        label += f" · input {view.by.truncated}"
    return label


def summary_blocks(view: SummaryView) -> list[dict[str, Any]]:
    s = view.summary
    blocks = [
        section(f"*Summary of {escape(view.ref)}*\n{model_text(s.summary)}"),
    ]
    if s.key_facts:
        blocks.append(section("*Key facts*\n" + model_text("\n".join(f"• {f}" for f in s.key_facts))))
    if s.open_questions:
        blocks.append(
            section("*Open questions*\n" + model_text("\n".join(f"• {q}" for q in s.open_questions)))
        )
    blocks.append(section(f"*Suggested next step*\n{model_text(s.next_step, 1000)}"))
    blocks.append(context(f":robot_face: {escape(summary_label(view))} · a suggestion, not a decision"))
    return as_dicts(blocks)


def summary_text(view: SummaryView) -> str:
    return f"Summary of {view.ref} ({summary_label(view)})"


def summarize_reply(ref: str) -> str:
    return f"Summarising {escape(ref)}: it will be posted in its thread."

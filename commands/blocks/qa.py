"""The words of QA re-reviews in the reviews: the weekly digest's QA sections (nobody named),
the admins' per-analyst table and /vigil qa. The re-review's own DM and modal are with the
other decisions' blocks (commands/blocks/decisions.py)."""

from __future__ import annotations

from typing import Any

from commands.blocks.common import as_dicts, bullets, context, escape, mention, pct, section, user_text
from workflows.cases import CATEGORIES
from workflows.reports import QaAnalystWeek, QaDisagreement, QaLine, QaTopic, QaWeek


def _qa_label(key: str) -> str:
    return escape(CATEGORIES.get(key, key.replace("_", " ")))


def _agreed(agreed: int, of: int) -> str:
    return f"{agreed:,}/{of:,} ({pct(agreed / of if of else None)})"


def qa_line(line: QaLine, label: str) -> str:
    return (
        f"{label}: {line.answered:,} re-reviewed · same outcome {_agreed(line.outcome_agreed, line.answered)}"
        f" · same category {_agreed(line.category_agreed, line.answered)}"
    )


def _said(outcome: str, category: str) -> str:
    return f"{escape(outcome.replace('_', ' ') or '-')} ({_qa_label(category)})"


def qa_disagreement_line(item: QaDisagreement) -> str:
    if item.kind == "case":
        where = f"<{item.case_link}|{escape(item.ref)}>" if item.case_link else escape(item.ref)
    else:
        where = escape(item.ref)
        if item.case_ref:
            case_ref = escape(item.case_ref)
            where += f" (from <{item.case_link}|{case_ref}>)" if item.case_link else f" (from {case_ref})"
        if item.card:
            where += f" · card in <#{item.card[0]}>"
    text = (
        f"{where} · decided {_said(item.original_outcome, item.original_category)} · "
        f"re-review {_said(item.review_outcome, item.review_category)}"
    )
    if item.note:
        text += f" · “{user_text(item.note, 120)}”"
    return text


def qa_topic_line(topic: QaTopic) -> str:
    if topic.kind == "category":
        pair = f"{_qa_label(topic.a)} vs {_qa_label(topic.b)}"
    else:
        a, b = (escape(x.replace("_", " ")) for x in (topic.a, topic.b))
        pair = f"{_qa_label(topic.scope)}, {a} vs {b}"
    return f"{pair}: {topic.disagreed:,} of {topic.of:,} re-reviews disagreed"


def qa_sections(week: QaWeek | None) -> list[str]:
    """The team's QA part of the weekly review, a section each: per category, the disagreements
    with links, the calibration topics. Nobody is named here; agreement per analyst goes to the
    admins by DM."""
    if week is None or not (week.sampled or week.answered):
        return ["*QA re-reviews* · No re-reviews this week."]
    head = f"*QA re-reviews* · {week.sampled:,} sampled, {week.answered:,} answered"
    if not week.answered:
        return [head + " · none answered yet."]
    out = [
        head
        + f" · same outcome {_agreed(week.outcome_agreed, week.answered)}"
        + f" · same category {_agreed(week.category_agreed, week.answered)}\n"
        + bullets([qa_line(line, _qa_label(line.key)) for line in week.by_category], "categories")
    ]
    if week.disagreements:
        rows = [qa_disagreement_line(item) for item in week.disagreements]
        if week.disagreements_total > len(rows):
            rows.append(f"… and {week.disagreements_total - len(rows):,} more (`vigil qa agreement`)")
        out.append(f"*QA disagreements* ({week.disagreements_total:,})\n" + "\n".join(f"• {r}" for r in rows))
    if week.calibration:
        topics = [f"{i}. {qa_topic_line(t)}" for i, t in enumerate(week.calibration, 1)]
        out.append("*Calibration topics* (where the two sides split most)\n" + "\n".join(topics))
    else:
        out.append("*Calibration topics* · none: every re-review agreed.")
    return out


def qa_admin_blocks(week: QaAnalystWeek) -> tuple[str, list[dict[str, Any]]]:
    """For an admin only (a DM or an ephemeral reply): agreement with each analyst's decisions."""
    text = f"QA per analyst · {week.label}"
    if not week.by_decider:
        return text, as_dicts([section(f"*QA per analyst* · {escape(week.label)}\nNo re-reviews answered.")])
    rows = [qa_line(line, mention(line.key)) for line in week.by_decider]
    categories = [qa_line(line, _qa_label(line.key)) for line in week.by_category]
    blocks: list[Any] = [
        section(
            f"*QA per analyst* · {escape(week.label)} (whose decisions were re-reviewed)\n"
            + bullets(rows, "analysts")
        ),
        section("*Per category*\n" + bullets(categories, "categories")),
        context("Only admins see this. Use it to coach, not to rank."),
    ]
    return text, as_dicts(blocks)


def qa_command_blocks(week: QaAnalystWeek, pending: int, admin: bool) -> tuple[str, list[dict[str, Any]]]:
    """/vigil qa: agreement per category for everyone with a role, per analyst only for admins,
    and the person's own re-reviews waiting."""
    categories = [qa_line(line, _qa_label(line.key)) for line in week.by_category]
    answered = sum(line.answered for line in week.by_category)
    head = f"*QA agreement* · {escape(week.label)} · {answered:,} re-reviews answered"
    blocks: list[Any] = [
        section(
            head + ("\n" + bullets(categories, "categories") if categories else "\nNo re-reviews answered.")
        )
    ]
    if admin:
        rows = [qa_line(line, mention(line.key)) for line in week.by_decider]
        blocks.append(
            section(
                "*Per analyst* (whose decisions were re-reviewed; only admins see this)\n"
                + (bullets(rows, "analysts") if rows else "No re-reviews answered.")
            )
        )
    queue = f"{pending:,} re-review(s) wait for you" if pending else "No re-review waits for you"
    blocks.append(context(f"{queue} (App Home → QA queue)."))
    return f"QA agreement: {answered} re-reviews answered", as_dicts(blocks)

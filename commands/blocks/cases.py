"""Block Kit for cases: the card, the queue, a case with its timeline, and the modals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from commands.blocks.common import (
    as_dicts,
    context,
    divider,
    escape,
    header,
    mention,
    section,
    sections,
    truncate,
    user_text,
)
from commands.blocks.handoff import engineering_button
from workflows.cases import (
    CATEGORIES,
    OUTCOMES,
    PRIORITIES,
    CaseNotice,
    CaseResult,
    CaseView,
    SlaState,
    sla_state,
)

STATUS_EMOJI = {"new": ":new:", "claimed": ":eyes:", "resolved": ":white_check_mark:"}
PRIORITY_EMOJI = {
    "P1": ":red_circle:",
    "P2": ":large_orange_circle:",
    "P3": ":large_yellow_circle:",
    "P4": ":white_circle:",
}
EXCERPT = 600


def slack_date(at: datetime) -> str:
    """Slack renders this in each reader's own timezone; the fallback is UTC."""
    epoch = int(at.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{at.strftime('%Y-%m-%d %H:%M UTC')}>"


def human(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)}m"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"


def sla_text(state: SlaState) -> str:
    return {
        "ok": f"due in {human(state.remaining)}",
        "at_risk": f":hourglass_flowing_sand: due in {human(state.remaining)}",
        "breached": f":rotating_light: breached {human(state.remaining)} ago",
        "met": "met",
        "missed": f"missed by {human(state.remaining)}",
    }[state.state]


def status_text(case: CaseView) -> str:
    if case.status == "resolved":
        outcome = OUTCOMES.get(case.outcome or "", case.outcome or "")
        return f"{STATUS_EMOJI['resolved']} Resolved ({outcome}) by <@{case.resolved_by}>"
    if case.claimed_by:
        return f"{STATUS_EMOJI['claimed']} Claimed by <@{case.claimed_by}>"
    return f"{STATUS_EMOJI['new']} New, unclaimed"


def accounts_text(accounts: list[str], limit: int = 10) -> str:
    if not accounts:
        return "none found"
    shown = ", ".join(f"`{escape(a)}`" for a in accounts[:limit])
    return shown + (f" and {len(accounts) - limit} more" if len(accounts) > limit else "")


def title(case: CaseView) -> str:
    return f"{PRIORITY_EMOJI.get(case.priority, '')} *{case.ref}* · {case.category_label} · *{case.priority}*"


def card_blocks(case: CaseView, now: datetime) -> list[dict[str, Any]]:
    state = sla_state(case, now)
    fields = [
        MarkdownTextObject(text=f"*Status*\n{status_text(case)}"),
        MarkdownTextObject(text=f"*SLA due*\n{slack_date(case.sla_due_at)} ({sla_text(state)})"),
        MarkdownTextObject(text=f"*Accounts*\n{truncate(accounts_text(case.accounts), 1900)}"),
        MarkdownTextObject(text=f"*Reported by*\n{f'<@{case.author}>' if case.author else 'an integration'}"),
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=title(case)), fields=fields),
        context(f"> {user_text(case.text, EXCERPT)}" if case.text.strip() else "_(no text)_"),
    ]
    notes = []
    if case.escalations:
        notes.append(f":rotating_light: escalated {case.escalations} time(s)")
    if case.source_deleted:
        notes.append(":wastebasket: original message deleted (kept in Vigil)")
    live = sorted({h.rule_id for h in case.rule_hits if h.mode == "live"})
    notes.append(f"playbook: {', '.join(f'`{r}`' for r in live)}" if live else "triage: built-in rules")
    if case.labels:
        notes.append(" ".join(f"`{escape(label)}`" for label in case.labels))
    blocks.append(context(" · ".join(notes)))
    if case.suggestion is not None:
        blocks.append(context(suggestion_text(case)))
    advice = [
        f":bulb: {escape(r.get('text', ''))} _(rule `{escape(r.get('rule', ''))}`)_"
        for r in case.recommendations
    ]
    if case.second_review:
        advice.append(f":busts_in_silhouette: Second review required: {escape(case.second_review)}")
    if advice:
        blocks.append(section("\n".join(advice)))
    if case.is_open:
        buttons = []
        if not case.claimed_by:
            buttons.append(
                ButtonElement(text="Claim", action_id="case_claim", value=str(case.id), style="primary")
            )
        buttons.append(
            ButtonElement(text="Escalate", action_id="case_escalate", value=str(case.id), style="danger")
        )
        buttons.append(ButtonElement(text="Resolve", action_id="case_resolve", value=str(case.id)))
        buttons.append(ButtonElement(text="Summarise", action_id="ai_summarize", value=f"case:{case.id}"))
        buttons.append(engineering_button("case", case.ref))
        blocks.append(ActionsBlock(block_id=f"case:{case.id}", elements=buttons))
    return as_dicts(blocks)


def suggestion_text(case: CaseView) -> str:
    """The triage suggestion, under the playbook's decision and plainly not it."""
    s = case.suggestion
    assert s is not None
    who = "AI suggestion" if s.source == "ai" else "Offline suggestion (no AI answer)"
    label = CATEGORIES.get(s.category, s.category)
    return (
        f":crystal_ball: {who}, not applied: *{escape(label)}*, {escape(s.priority)}, "
        f"confidence {s.confidence:.0%} · {user_text(s.rationale, 300)}"
    )


def card_text(case: CaseView) -> str:
    """The notification/fallback text: never user text, so a message can't ping anyone."""
    return f"{case.ref} · {case.category_label} · {case.priority} · {case.status}"


def queue_line(case: CaseView, now: datetime) -> str:
    owner = f"<@{case.claimed_by}>" if case.claimed_by else "_unclaimed_"
    link = f"<{case.permalink}|{case.ref}>" if case.permalink else case.ref
    return (
        f"{PRIORITY_EMOJI.get(case.priority, '')} *{link}* {case.priority} · {case.category_label} · "
        f"{human(now - case.created_at)} old · {sla_text(sla_state(case, now))} · {owner}"
    )


def queue_blocks(cases: list[CaseView], total: int, now: datetime) -> list[dict[str, Any]]:
    if not cases:
        return as_dicts([section(":sparkles: The queue is empty: no open cases.")])
    lines = [queue_line(c, now) for c in cases]
    blocks: list[Block] = [header(f"Open cases ({total})"), *sections(lines)]
    if total > len(cases):
        blocks.append(context(f"Showing the {len(cases)} most urgent of {total}."))
    return as_dicts(blocks)


EVENT_TEXT = {
    "created": lambda d: f"opened ({d.get('source')}) as {d.get('category')} {d.get('priority')}",
    "card_posted": lambda d: "card posted",
    "claimed": lambda d: "claimed",
    "released": lambda d: "released",
    "escalated": lambda d: f"escalated {d.get('from')} → {d.get('to')}",
    "resolved": lambda d: (
        f"resolved: {OUTCOMES.get(d.get('outcome', ''), d.get('outcome'))}"
        + (f" — {user_text(d['note'], 300)}" if d.get("note") else "")
    ),
    "note": lambda d: f"note: {user_text(d.get('text', ''), 300)}",
    "note_edited": lambda d: f"note edited: {user_text(d.get('text', ''), 300)}",
    "message_edited": lambda d: f"original message edited: {user_text(d.get('text', ''), 300)}",
    "message_deleted": lambda d: "original message deleted",
    "sla_nudged": lambda d: "SLA nudge (75%)",
    "sla_breached": lambda d: "SLA breached",
    "reporters_told": lambda d: (
        f"reporters told: {d.get('reporters', 0)} ({d.get('outcome')})"
        + (f"; {d['without_id']} without a report id, not told" if d.get("without_id") else "")
    ),
    "reporter_not_told": lambda d: (
        f"a reporter could not be told: {user_text(str(d.get('error') or ''), 200)}"
    ),
    "rules_matched": lambda d: (
        "rules matched: " + ", ".join(f"{r['rule']} ({r['mode']})" for r in d.get("rules", []))
    ),
}


def case_blocks(case: CaseView, now: datetime) -> list[dict[str, Any]]:
    blocks = card_blocks(case, now)
    blocks = [b for b in blocks if b.get("type") != "actions"]
    lines = []
    for event in case.events[-25:]:
        who = f"{mention(event.actor)} " if event.actor else ""
        describe = EVENT_TEXT.get(event.kind, lambda d, k=event.kind: k)
        lines.append(f"`{event.at.strftime('%m-%d %H:%M')}` {who}{describe(event.data)}")
    blocks += as_dicts([divider(), section("*Timeline*\n" + ("\n".join(lines) or "_nothing yet_"))])
    if case.rule_hits:
        hits = []
        for hit in case.rule_hits[-10:]:
            why = ", ".join(f"{k}={v!r}" for k, v in hit.why.items())
            extra = f" ({hit.note})" if hit.note else ""
            hits.append(
                f"`{hit.rule_id}` {hit.mode} on {hit.trigger}{escape(extra)}: {truncate(escape(why), 300)}"
            )
        blocks += as_dicts([section("*Rules that matched, and why*\n" + "\n".join(hits))])
    if case.permalink:
        blocks += as_dicts([context(f"<{case.permalink}|Open the original message>")])
    return blocks


def _options(labels: dict[str, str]) -> list[Option]:
    return [Option(text=label, value=value) for value, label in labels.items()]


def resolve_modal(case: CaseView, channel: str | None) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id="case_resolve",
        title="Resolve case",
        submit="Resolve",
        close="Cancel",
        private_metadata=json.dumps({"case_id": case.id, "channel": channel}),
        blocks=[
            section(f"{title(case)}\n{status_text(case)}"),
            InputBlock(
                block_id="outcome",
                label="Outcome",
                element=StaticSelectElement(
                    action_id="outcome", placeholder="How did it end?", options=_options(OUTCOMES)
                ),
            ),
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id="note", multiline=True, max_length=2000),
            ),
        ],
    ).to_dict()


def outcome_prompt(case: CaseView) -> list[dict[str, Any]]:
    """Sent to whoever reacted to resolve: a reaction cannot open a modal, buttons can."""
    buttons = [
        ButtonElement(text=label, action_id=f"case_outcome_{value}", value=f"{case.id}:{value}")
        for value, label in OUTCOMES.items()
    ]
    return as_dicts(
        [section(f"How did *{case.ref}* end?"), ActionsBlock(block_id=f"outcome:{case.id}", elements=buttons)]
    )


def create_modal(metadata: dict[str, Any], category: str, priority: str, excerpt: str) -> dict[str, Any]:
    category_options = _options(CATEGORIES)
    priority_options = _options({p: p for p in PRIORITIES})
    return View(
        type="modal",
        callback_id="case_create",
        title="Create Vigil case",
        submit="Create",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            context(f"> {user_text(excerpt, 500)}" if excerpt.strip() else "_(no text)_"),
            InputBlock(
                block_id="category",
                label="Category",
                element=StaticSelectElement(
                    action_id="category",
                    options=category_options,
                    initial_option=next(o for o in category_options if o.value == category),
                ),
            ),
            InputBlock(
                block_id="priority",
                label="Priority",
                element=StaticSelectElement(
                    action_id="priority",
                    options=priority_options,
                    initial_option=next(o for o in priority_options if o.value == priority),
                ),
            ),
            # Slack cannot show a field only for one choice of another: both are always there,
            # optional, and checked only when the category is an appeal.
            InputBlock(
                block_id="appeal_account",
                label="Appeal: the account",
                optional=True,
                hint="For an appeal only: the account whose suspension is contested.",
                element=PlainTextInputElement(action_id="appeal_account", max_length=64),
            ),
            InputBlock(
                block_id="appeal_action",
                label="Appeal: the action",
                optional=True,
                hint="For an appeal only: the suspension's statement id (vigil-req…) or its request (REQ-n).",
                element=PlainTextInputElement(action_id="appeal_action", max_length=500),
            ),
        ],
    ).to_dict()


def reply_for(result: CaseResult, action: str) -> str | None:
    """The private line the person sees after acting; None when the card says it all."""
    case = result.case
    ref = case.ref if case else "That case"
    match result.outcome:
        case "taken":
            return f"{ref} is already claimed by <@{case.claimed_by if case else ''}>."
        case "already_yours":
            return f"{ref} is already yours."
        case "already_resolved":
            by = f" by <@{case.resolved_by}>" if case and case.resolved_by else ""
            return f"{ref} was already resolved{by}; nothing changed."
        case "not_found":
            return "I can't find that case."
        case "not_owner":
            return f"Only the owner can release {ref}."
        case "claimed":
            return f"{ref} is yours." if action == "claim_button" else None
        case "escalated":
            return f"{ref} is now {case.priority if case else ''}; the alerts channel knows."
        case "resolved":
            return f"{ref} resolved."
    return None


def notice_text(case: CaseView, notice: CaseNotice) -> str:
    """A case's notice in its thread or the alerts channel, from its code and fields."""
    fields = notice.fields
    match notice.kind:
        case "escalated":
            by = mention(fields.get("by"))
            if fields.get("from") != fields.get("to"):
                return f"{case.ref} escalated {fields.get('from')} → {fields.get('to')} by {by}"
            return f"{case.ref} escalated again at {fields.get('to')} by {by}"
        case "sla_breached":
            owner = f", claimed by {mention(fields['owner'])}" if fields.get("owner") else ", unclaimed"
            return f":rotating_light: {case.ref} ({fields.get('priority')}) breached its SLA{owner}."
        case "sla_nudged":
            who = mention(fields["owner"]) if fields.get("owner") else "Nobody has claimed it yet"
            return (
                f":hourglass_flowing_sand: {case.ref} is 75% through its {fields.get('priority')} SLA. {who}."
            )
    return str(fields.get("text", ""))  # queued by a version before notices had codes

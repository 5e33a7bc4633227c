"""Block Kit for investigations: the dossier message, the outcome modal, replies."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from commands.blocks.cases import slack_date
from commands.blocks.common import (
    as_dicts,
    clip,
    context,
    divider,
    escape,
    header,
    mention,
    section,
    truncate,
    user_text,
)
from commands.blocks.handoff import engineering_button
from workflows.investigations import (
    OUTCOMES,
    Dossier,
    EnforcementRecord,
    InvestigationResult,
    InvestigationView,
)

PROFILE_FIELDS = 10
TIMELINE_ITEMS = 20
KIND_EMOJI = {
    "signal": ":satellite_antenna:",
    "report": ":triangular_flag_on_post:",
    "case": ":file_folder:",
    "enforcement": ":hammer:",
    "investigation": ":mag:",
    "rule": ":scroll:",
}


def _lines(lines: list[str], empty: str) -> str:
    return truncate("\n".join(lines), 2900) if lines else empty


def profile_text(dossier: Dossier) -> str:
    profile = dossier.profile
    if profile.status == "found":
        lines = []
        for key, value in list(profile.data.items())[:PROFILE_FIELDS]:
            if isinstance(value, dict | list):
                value = clip(json.dumps(value), 80)
            lines.append(f"• {escape(str(key))}: {user_text(str(value), 200)}")
        return "*Profile*\n" + _lines(lines, "_(empty profile)_")
    if profile.status == "unknown":
        return "*Profile*\n:grey_question: Unknown to the platform (the enforcement API has no such account)."
    if profile.status == "unreachable":
        detail = f" ({escape(profile.detail)})" if profile.detail else ""
        return f"*Profile*\n:warning: The enforcement API is unreachable{detail}; shown without it."
    return "*Profile*\n_Not configured: set `VIGIL_ENFORCEMENT_URL` to see the platform's profile._"


def _mark(count: float, stats: dict[str, Any] | None) -> str:
    if not stats or not count:
        return ""
    if count > stats["p99"]:
        return " :red_circle:"
    if count > stats["p90"]:
        return " :large_orange_circle:"
    return ""


def velocity_text(dossier: Dossier) -> str:
    velocity = dossier.velocity
    lines = []
    for kind in velocity["windows"]["7d"]:
        if not velocity["windows"]["7d"][kind]["count"]:
            continue
        parts = []
        for window in ("1h", "24h", "7d"):
            count = velocity["windows"][window][kind]["count"]
            stats = velocity["population"].get(window, {}).get(kind)
            typical = (
                f" (p50 {stats['p50']:g} · p90 {stats['p90']:g} · p99 {stats['p99']:g})" if stats else ""
            )
            parts.append(f"{window} *{count}*{typical}{_mark(count, stats)}")
        lines.append(f"• `{escape(kind)}`: " + " · ".join(parts))
    age = velocity.get("account_age_days")
    source = {"profile": "from the profile", "first_seen": "since first seen"}.get(
        velocity.get("account_age_source") or "", ""
    )
    head = f"*Velocity vs population* ({dossier.signal_total} signals in all"
    head += f"; account age {age:g} days {source})" if age is not None else ")"
    return head + "\n" + _lines(lines, "_No signals in the last 7 days._")


def timeline_text(dossier: Dossier) -> str:
    lines = [
        f"{KIND_EMOJI.get(item.kind, '•')} {slack_date(item.at)} · {user_text(item.text, 200)}"
        for item in dossier.timeline[:TIMELINE_ITEMS]
    ]
    return "*Timeline*\n" + _lines(lines, "_Nothing recorded yet._")


def cases_text(dossier: Dossier) -> str:
    lines = []
    for case in dossier.cases[:10]:
        ref = f"<{case.permalink}|{case.ref}>" if case.permalink else case.ref
        lines.append(f"• {ref} {case.priority} · {escape(case.category)} · {case.status}")
    return "*Cases*\n" + _lines(lines, "_None._")


def _enforcement_line(r: EnforcementRecord) -> str:
    ref = escape(r.ref or "")
    if r.open:  # first, and loud: someone already asked, so nobody asks twice
        return f":hourglass: *{ref}* {escape(r.action)} · *{escape(r.status)}* · asked by {mention(r.actor)}"
    return (
        f"• {slack_date(r.at)} {escape(r.action)} · {escape(r.status)}"
        + (f" · {ref}" if ref else "")
        + (f" · {mention(r.actor)}" if r.actor else "")
    )


def enforcement_text(dossier: Dossier) -> str:
    lines = [_enforcement_line(r) for r in dossier.enforcement[:10]]
    return "*Enforcement history*\n" + _lines(lines, "_None recorded._")


def linked_text(dossier: Dossier) -> str:
    lines = [
        f"• `{escape(link.account_id)}` shares "
        + ", ".join(f"{escape(key)}={user_text(value, 60)}" for key, value in link.shared[:3])
        for link in dossier.linked[:10]
    ]
    return "*Linked accounts*\n" + _lines(lines, "_None share a payment fingerprint or device._")


def rules_text(dossier: Dossier) -> str:
    lines = [
        f"• {slack_date(m.at)} `{escape(m.rule)}`" + (f": {user_text(m.detail, 200)}" if m.detail else "")
        for m in dossier.rules[:10]
    ]
    return "*Rules that matched*\n" + _lines(lines, "_None._")


def status_text(inv: InvestigationView) -> str:
    if inv.is_open:
        return f":mag: Open · opened by {mention(inv.opened_by)} {slack_date(inv.opened_at)}"
    text = f":white_check_mark: Closed · *{inv.outcome_label}* by <@{inv.closed_by}>"
    if inv.closed_at:
        text += f" {slack_date(inv.closed_at)}"
    if inv.findings:
        text += f"\n> {user_text(inv.findings, 1500)}"
    return text


def investigation_blocks(inv: InvestigationView, dossier: Dossier) -> list[dict[str, Any]]:
    blocks: list[Block] = [
        header(f"{inv.ref} · {dossier.account_id}"),
        section(status_text(inv)),
        section(profile_text(dossier)),
        section(velocity_text(dossier)),
        section(timeline_text(dossier)),
        section(cases_text(dossier)),
        section(enforcement_text(dossier)),
        section(linked_text(dossier)),
        section(rules_text(dossier)),
    ]
    if inv.is_open:
        blocks.append(
            ActionsBlock(
                block_id=f"investigation:{inv.id}",
                elements=[
                    ButtonElement(
                        text="Record outcome",
                        action_id="investigation_outcome",
                        value=str(inv.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text="Request suspension",
                        action_id="investigation_suspend",
                        value=str(inv.id),
                        style="danger",
                    ),
                    ButtonElement(
                        text="Summarise", action_id="ai_summarize", value=f"investigation:{inv.id}"
                    ),
                    engineering_button("investigation", inv.ref),
                ],
            )
        )
    blocks += [divider(), context(f"{inv.ref} · as of {slack_date(dossier.at)}")]
    return as_dicts(blocks)


def investigation_text(inv: InvestigationView) -> str:
    state = "open" if inv.is_open else f"closed: {inv.outcome_label}"
    return f"{inv.ref} · investigation of {escape(inv.account_id)} · {state}"


def outcome_modal(inv: InvestigationView, channel: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id="investigation_outcome",
        title=truncate(f"Close {inv.ref}", 24),
        submit="Record",
        close="Cancel",
        private_metadata=json.dumps({"investigation_id": inv.id, "channel": channel}),
        blocks=[
            section(f"Investigation of `{escape(inv.account_id)}`: what did you find?"),
            InputBlock(
                block_id="outcome",
                label="Outcome",
                element=StaticSelectElement(
                    action_id="outcome",
                    placeholder="Pick one",
                    options=[Option(value=k, text=v) for k, v in OUTCOMES.items()],
                ),
            ),
            InputBlock(
                block_id="findings",
                label="Findings",
                optional=True,
                element=PlainTextInputElement(action_id="findings", multiline=True, max_length=3000),
            ),
        ],
    )
    return view.to_dict()


def reply_for(result: InvestigationResult, account: str = "") -> str:
    inv = result.investigation
    if result.outcome == "invalid_account":
        return f"`{escape(account)}` is not an account id. Usage: `/vigil investigate ACCOUNT`."
    if result.outcome == "not_found" or inv is None:
        return "That investigation does not exist."
    if result.outcome == "opened":
        return f"Opened {inv.ref} for `{escape(inv.account_id)}`; it is being posted here."
    if result.outcome == "exists":
        return (
            f"{inv.ref} is already open for `{escape(inv.account_id)}` (opened by {mention(inv.opened_by)})."
        )
    if result.outcome == "already_closed":
        return f"{inv.ref} is already closed: {inv.outcome_label} by <@{inv.closed_by}>."
    if result.outcome == "closed":
        return f"{inv.ref} closed: {inv.outcome_label}."
    return "Done."


def suspend_hint(inv: InvestigationView, evidence: str) -> str:
    return (
        f"To request a suspension, run `/suspend {escape(inv.account_id)}` "
        f"and paste this as evidence: `{escape(evidence)}`"
    )


def outcome_thread_text(inv: InvestigationView) -> str:
    findings = f"\n> {user_text(inv.findings, 2000)}" if inv.findings else ""
    return f"{inv.ref} closed by <@{inv.closed_by}>: *{inv.outcome_label}*.{findings}"


def home_line(inv: InvestigationView) -> str:
    return f":mag: *{inv.ref}* `{escape(inv.account_id)}` · opened {slack_date(inv.opened_at)}"

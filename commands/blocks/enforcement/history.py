"""An account's enforcement history, for `/vigil account ID`."""

from __future__ import annotations

from typing import Any

from commands.blocks.common import (
    as_dicts,
    escape,
    header,
    mention,
    section,
    truncate,
    user_text,
)
from commands.blocks.enforcement.labels import ACTION_LABEL
from store.enforcement import (
    CANCELLED,
)
from workflows.enforcement import (
    HistoryEntry,
)


def statements_text(statements: list[dict[str, Any]]) -> str:
    """Each statement of reasons of the account: its puid, request and where it stands."""
    lines = ["*Statements of reasons (DSA)*"]
    for s in statements[:20]:
        where = f" · database id `{escape(s['dsa_id'])}`" if s.get("dsa_id") else ""
        why = f" — {user_text(s['error'], 200)}" if s.get("error") else ""
        lines.append(f"`{escape(s['puid'])}` · {s['request']} · *{escape(s['status'])}*{where}{why}")
    return "\n".join(lines)


def history(
    account_id: str, entries: list[HistoryEntry], statements: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    if not entries:
        return as_dicts([section(f"No enforcement history for `{escape(account_id)}`.")])
    lines = []
    for e in entries:
        approvers = ", ".join(f"<@{a}>" for a in e.approvers) or "nobody yet"
        when = e.requested_at.strftime("%Y-%m-%d %H:%M UTC")
        code = f" (HTTP {e.result_code})" if e.result_code else ""
        by = f" by <@{e.executed_by}>" if e.executed_by else ""
        reverses = f" · reverses REQ-{e.reverses_request_id}" if e.reverses_request_id else ""
        label = ACTION_LABEL.get(e.status, e.status)
        if e.status == CANCELLED:
            label = f"cancelled ({e.request_status})"  # rejected or expired
        lines.append(
            f"*{e.ref}* {when} · *{e.action}* · `{escape(e.reason_code)}` · "
            f"asked by {mention(e.requester)} · approved by {approvers} · *{label}*{code}{by}{reverses}"
            + (f" — {user_text(e.error, 200)}" if e.error else "")
        )
    blocks = [header(truncate(f"Enforcement history: {account_id}", 150)), section("\n".join(lines))]
    if statements:
        blocks.append(section(statements_text(statements)))
    return as_dicts(blocks)

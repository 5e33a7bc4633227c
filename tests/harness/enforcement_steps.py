"""Steps of an enforcement story: ask in the modal, find the card, click, look at the ledger."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.fakes.slack import Call
from store.audit import AuditEntry
from store.enforcement import EnforcementAction, EnforcementRequest
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, APPROVALS, BOT_TOKEN, ESCALATIONS, LEAD, config_data

ENGINEER = "U0ENG0001"  # a platform engineer in the engineering channel: roles.engineers only


def modal_values(
    accounts: str = "",
    reason: str | None = "spam",
    evidence: str = "",
    note: str = "",
    files: list[dict[str, Any]] | None = None,
    checklist: list[str] | None = None,
    root_cause: str | None = None,
) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        "accounts": {"value": {"type": "plain_text_input", "value": accounts or None}},
        "file": {"value": {"type": "file_input", "files": files or []}},
        "reason": {
            "value": {
                "type": "static_select",
                "selected_option": {"value": reason, "text": {"type": "plain_text", "text": reason}}
                if reason
                else None,
            }
        },
        "evidence": {"value": {"type": "plain_text_input", "value": evidence or None}},
        "note": {"value": {"type": "plain_text_input", "value": note or None}},
    }
    if checklist is not None:
        values["checklist"] = {
            "value": {"type": "checkboxes", "selected_options": [{"value": c} for c in checklist]}
        }
    if root_cause is not None:
        values["root_cause"] = {"value": {"type": "plain_text_input", "value": root_cause}}
    return values


def ask(
    vigil: Vigil,
    action: str = "suspend",
    user: str = ANALYST,
    channel: str = ESCALATIONS,
    **values: Any,
) -> httpx.Response:
    """Submit the /suspend or /reinstate modal."""
    metadata = json.dumps({"action": action, "channel": channel})
    return vigil.send.view_submission(
        "enforcement_request", modal_values(**values), user=user, private_metadata=metadata
    )


def card(vigil: Vigil, request_id: int = 1) -> Call:
    """The approval card as first posted in the approvals channel (and recorded by Vigil)."""
    posted = vigil.slack.wait_for(
        "chat.postMessage",
        where=lambda c: (
            c.get("channel") == APPROVALS
            and not c.get("thread_ts")
            and str(c.get("text", "")).startswith(f"REQ-{request_id} ")
        ),
    )[0]
    eventually(lambda: _card_ts(vigil, request_id) is not None, what="the card to be recorded")
    return posted


def _card_ts(vigil: Vigil, request_id: int) -> str | None:
    with vigil.db.read() as session:
        request = session.get(EnforcementRequest, request_id)
        return request.card_ts if request else None


def card_ts(vigil: Vigil, request_id: int = 1) -> str:
    with vigil.db.read() as session:
        request = session.get(EnforcementRequest, request_id)
        assert request is not None and request.card_ts, "the card was never posted"
        return request.card_ts


def click(
    vigil: Vigil, action_id: str, request_id: int = 1, user: str = LEAD, channel: str = APPROVALS
) -> None:
    response = vigil.send.block_action(
        action_id, str(request_id), user=user, channel=channel, message_ts=card_ts(vigil, request_id)
    )
    assert response.status_code == 200


def in_thread(vigil: Vigil, contains: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
    """Messages Vigil posted in a card's thread that contain ``contains``."""
    return vigil.slack.wait_for(
        "chat.postMessage",
        where=lambda c: bool(c.get("thread_ts")) and contains in str(c.get("text", "")),
        count=count,
        timeout=timeout,
    )


def ephemerals_to(vigil: Vigil, user: str, contains: str, count: int = 1) -> list[Call]:
    return vigil.slack.wait_for(
        "chat.postEphemeral",
        where=lambda c: c.get("user") == user and contains in str(c.get("text", "")),
        count=count,
    )


def approve_and_wait(vigil: Vigil, request_id: int = 1, user: str = LEAD) -> None:
    card(vigil, request_id)
    click(vigil, "enforcement_approve", request_id, user)
    in_thread(vigil, f"approved REQ-{request_id}")


def request_row(vigil: Vigil, request_id: int = 1) -> EnforcementRequest:
    with vigil.db.read() as session:
        request = session.get(EnforcementRequest, request_id)
        assert request is not None
        return request


def actions(vigil: Vigil, request_id: int = 1) -> dict[str, EnforcementAction]:
    with vigil.db.read() as session:
        rows = session.scalars(
            select(EnforcementAction).where(EnforcementAction.request_id == request_id)
        ).all()
        return {row.account_id: row for row in rows}


def audit_actions(vigil: Vigil) -> list[str]:
    with vigil.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def eventually(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Wait for a condition (never asserts on how long it took)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def requests_made(vigil: Vigil) -> int:
    with vigil.db.read() as session:
        return session.scalar(select(func.count()).select_from(EnforcementRequest)) or 0


def card_updates(vigil: Vigil, request_id: int, contains: str) -> list[Call]:
    """Updates of a request's approval card whose blocks say ``contains``."""
    ts = request_row(vigil, request_id).card_ts
    return vigil.slack.wait_for(
        "chat.update",
        where=lambda c: c.get("ts") == ts and contains in json.dumps(c.get("blocks"), ensure_ascii=False),
        timeout=10,
    )


def operator_shell(vigil: Vigil, tmp_path: Path, monkeypatch: Any) -> None:
    """An operator's shell next to the running Vigil: same config, database and Slack."""
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", vigil.slack.api_url)
    monkeypatch.delenv("VIGIL_ENFORCEMENT_URL", raising=False)


def cli_request(requester: str, accounts: str = "acct_1", action: str = "suspend") -> Result:
    """`vigil enforcement request ACTION --accounts … --reason spam --requester …`"""
    from bot.cli import main

    args = ["enforcement", "request", action, "--accounts", accounts, "--reason", "spam"]
    return CliRunner().invoke(main, [*args, "--requester", requester])

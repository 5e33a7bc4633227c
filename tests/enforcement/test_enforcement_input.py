"""What analysts type and upload: checked before anything is asked of an approver."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from store.enforcement import EnforcementRequest
from store.reports import reversals_between
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    card,
    ephemerals_to,
    request_row,
)
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, APPROVALS, BOT_TOKEN, LEAD, MONDAY, config_data
from workflows.config import parse_config

CONFIG = parse_config(config_data()).enforcement


def upload(fake_slack: FakeSlack, name: str, content: bytes) -> list[dict[str, Any]]:
    return [fake_slack.user_file(name, content)]


def test_a_csv_with_a_bom_a_header_and_blank_lines_is_read(enforcing: Vigil, fake_slack: FakeSlack) -> None:
    csv = "\ufeffaccount_id,note\r\nacct_1,first\r\n\r\nacct_2,second\r\n,\r\nacct_3,\r\n".encode()
    response = ask(enforcing, files=upload(fake_slack, "ids.csv", csv))
    assert response.status_code == 200 and response.text == ""
    card(enforcing)
    assert set(actions(enforcing)) == {"acct_1", "acct_2", "acct_3"}
    download = fake_slack.wait_for("files.download")[0]
    assert download.token == f"Bearer {BOT_TOKEN}"  # fetched with the bot token


def test_malformed_ids_are_named_inline(vigil: Vigil) -> None:
    response = ask(vigil, accounts="acct_1 bad/id <script> acct_2")
    body = response.json()
    assert body["response_action"] == "errors"
    assert "bad/id" in body["errors"]["accounts"] and "<script>" in body["errors"]["accounts"]
    assert vigil.slack.calls_of("chat.postMessage") == []  # nothing reached approvers


def test_an_empty_reason_and_no_accounts_are_errors_on_their_fields(vigil: Vigil) -> None:
    body = ask(vigil, accounts="", reason=None).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"accounts", "reason"}


def test_twenty_thousand_ids_are_refused_inline(vigil: Vigil, fake_slack: FakeSlack) -> None:
    ids = "\n".join(f"acct_{n}" for n in range(20_000)).encode()
    body = ask(vigil, files=upload(fake_slack, "huge.txt", ids)).json()
    assert body["response_action"] == "errors"
    assert "20,000 accounts: at most 10,000" in body["errors"]["file"]
    assert request_rows(vigil) == 0


def request_rows(vigil: Vigil) -> int:
    with vigil.db.read() as session:
        return session.scalar(select(func.count()).select_from(EnforcementRequest)) or 0


def test_duplicates_are_removed_and_reported(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1, acct_2\nacct_1 acct_1")
    assert "2 duplicate id(s) removed" in json.dumps(card(vigil)["blocks"])
    told = ephemerals_to(vigil, ANALYST, "duplicate")[0]["text"]
    assert "2 duplicate id(s) were removed: `acct_1`, `acct_1`" in told
    assert set(actions(vigil)) == {"acct_1", "acct_2"}


def test_a_reinstatement_needs_the_review_and_links_the_suspension_it_reverses(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    ask(enforcing, accounts="acct_1 acct_2")
    approve_and_wait(enforcing)
    enforcing.enforce()

    unchecked = ask(enforcing, action="reinstate", accounts="acct_1", reason="other", checklist=[]).json()
    assert set(unchecked["errors"]) == {"checklist", "root_cause"}
    ask(
        enforcing,
        action="reinstate",
        accounts="acct_1",
        reason="other",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="the velocity rule misfired on a travelling host",
    )
    shown = json.dumps(card(enforcing, 2)["blocks"])
    assert "Reverses REQ-1" in shown and "travelling host" in shown
    reinstatement = request_row(enforcing, 2)
    assert reinstatement.reverses_request_id == 1
    assert reinstatement.checklist == {
        "appeal_reviewed": True,
        "evidence_rechecked": True,
        "root_cause": "the velocity rule misfired on a travelling host",
    }
    assert actions(enforcing, 2)["acct_1"].reverses_action_id == actions(enforcing, 1)["acct_1"].id
    approve_and_wait(enforcing, 2, user=LEAD)
    enforcing.enforce()
    (call,) = fake_enforcement.calls_for("acct_1", "reinstate")
    assert call.key == "vigil:REQ-2:acct_1:reinstate"
    assert fake_enforcement.accounts["acct_1"]["state"] == "active"
    with enforcing.db.read() as session:  # the digest's reversal rate, over all time so far
        rate = reversals_between(session, MONDAY - timedelta(days=365), MONDAY + timedelta(days=365))
    assert (rate.suspended, rate.reversed, rate.rate) == (2, 1, 0.5)


def test_operators_ask_from_a_file_on_the_command_line(
    vigil: Vigil, fake_slack: FakeSlack, tmp_path: Path, monkeypatch
) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_bytes(b"\xef\xbb\xbfaccount_id\nacct_7\n\nacct_8\nacct_7\n")
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.delenv("VIGIL_ENFORCEMENT_URL", raising=False)
    args = [
        "enforcement",
        "request",
        "suspend",
        "--file",
        str(ids),
        "--reason",
        "spam",
        "--requester",
        ANALYST,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "REQ-1: suspend 2 account(s), waiting for approval in Slack" in result.output
    assert "1 duplicate id(s) removed" in result.output
    posted = fake_slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == APPROVALS)[0]
    assert "Approve" in json.dumps(posted["blocks"])
    fake_slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == ANALYST)  # a DM with the link
    assert request_row(vigil).source == "cli" and request_row(vigil).status == "pending_approval"

    bad = CliRunner().invoke(main, [*args[:5], "--reason", "vibes", "--requester", ANALYST])
    assert bad.exit_code == 1 and "reason: Unknown reason 'vibes'" in bad.output

    listed = CliRunner().invoke(main, ["enforcement", "list"])
    assert "REQ-1" in listed.output and "pending_approval" in listed.output
    shown = CliRunner().invoke(main, ["enforcement", "show", "REQ-1", "--all"])
    assert "acct_7  awaiting_approval  key vigil:REQ-1:acct_7:suspend" in shown.output
    assert CliRunner().invoke(main, ["enforcement", "show", "REQ-99"]).exit_code == 1

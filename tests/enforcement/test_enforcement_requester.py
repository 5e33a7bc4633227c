"""The command line is an operator tool: the requester it names is a real analyst, four-eyes
holds against them, and the operator who ran it is on the record."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from store.audit import AuditEntry
from store.enforcement import EnforcementEvent
from tests.harness.enforcement_steps import (
    actions,
    cli_request,
    click,
    ephemerals_to,
    in_thread,
    operator_shell,
    request_row,
    requests_made,
)
from tests.harness.vigil import Vigil
from tests.harness.world import GROUP_ANALYST, LEAD, LEAD_2, MONDAY, OUTSIDER
from workflows import enforcement as workflow


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def cli_env(vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    operator_shell(vigil, tmp_path, monkeypatch)


def test_the_cli_requester_must_be_a_slack_user_who_holds_the_analyst_role(
    vigil: Vigil, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoofed = cli_request("<!channel> anyone")
    assert spoofed.exit_code == 2
    assert spoofed.output.strip() == (
        "vigil: --requester '<!channel> anyone' is not a Slack user id (U… or W…)"
    )
    outsider = cli_request(OUTSIDER)  # a CX agent holds no Vigil role
    assert outsider.exit_code == 2 and "is not a Vigil analyst" in outsider.output
    assert len(outsider.output.strip().splitlines()) == 1
    assert requests_made(vigil) == 0

    # An analyst only through a user group: resolved with Slack when a token is set...
    assert cli_request(GROUP_ANALYST).exit_code == 0
    # ...and without one, the operator is told why the id is not found.
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    grouped = cli_request(GROUP_ANALYST, accounts="acct_2")
    assert grouped.exit_code == 2 and "user groups are resolved only with SLACK_BOT_TOKEN" in grouped.output
    assert requests_made(vigil) == 1


def test_an_approver_who_files_from_the_cli_cannot_approve_it_in_slack(vigil: Vigil, cli_env: None) -> None:
    filed = cli_request(LEAD)  # approvers may ask, as analysts
    assert filed.exit_code == 0, filed.output
    assert request_row(vigil).requester == LEAD
    click(vigil, "enforcement_approve", user=LEAD)
    assert "four-eyes" in ephemerals_to(vigil, LEAD, "four-eyes")[0]["text"]
    assert request_row(vigil).status == "pending_approval"
    assert actions(vigil)["acct_1"].status == "awaiting_approval"

    # Who ran the command is on the record, next to who asked.
    with vigil.db.read() as session:
        requested = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "enforcement.requested")
        ).one()
        event = session.scalars(select(EnforcementEvent).where(EnforcementEvent.kind == "requested")).one()
    assert requested.actor == LEAD and requested.data["cli_user"] == getpass.getuser()
    assert event.data["cli_user"] == getpass.getuser()

    click(vigil, "enforcement_approve", user=LEAD_2)  # another approver decides it
    in_thread(vigil, "approved REQ-1")


def test_the_cli_help_says_who_is_trusted() -> None:
    shown = CliRunner().invoke(main, ["enforcement", "request", "--help"]).output
    assert "An operator tool" in shown and "analyst role" in shown and "OS user" in shown


def test_the_card_never_renders_a_requester_as_mrkdwn() -> None:
    from commands.blocks.enforcement import card as render

    view = workflow.RequestView(
        id=1, action="suspend", status="pending_approval", requester="<!channel>", reason_code="spam",
        note="", evidence="", case_ref=None, account_count=1, sample=["acct_1"], duplicates_removed=0,
        approvals_needed=1, approvers=[], decided_by=None, rejection_reason=None, manual=False,
        precheck=None, checklist=None, reverses_request_id=None, card=None, progress_ts=None,
        origin_channel=None, counts={}, round=1, created_at=MONDAY,
    )  # fmt: skip
    _text, blocks = render(view)
    assert "<!channel>" not in dump(blocks) and "&lt;!channel&gt;" in dump(blocks)

"""Manual mode: no enforcement API connected. Approved actions go to Engineering, and Vigil
never claims to have suspended anyone. Only an engineer (or an admin) who did not ask for it
records that they were executed."""

from __future__ import annotations

import json

import pytest

from tests.harness.enforcement_steps import (
    ENGINEER,
    actions,
    approve_and_wait,
    ask,
    audit_actions,
    click,
    ephemerals_to,
    in_thread,
    request_row,
)
from tests.harness.vigil import Vigil
from tests.harness.world import ADMIN, ANALYST, ANALYST_2, APPROVALS, ENGINEERING, LEAD, config_data
from workflows.config import ConfigError, parse_config


def hand_off(vigil: Vigil) -> dict:
    return vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == ENGINEERING)[0]


def test_an_approved_request_is_handed_to_engineering_and_nothing_pretends(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2", reason="fraud")
    approve_and_wait(vigil)
    said = in_thread(vigil, "approved REQ-1")[0]["text"]
    assert "handed to Engineering" in said and "Nothing has been executed yet" in said
    assert "suspended" not in said

    message = hand_off(vigil)
    shown = json.dumps(message["blocks"])
    assert "`acct_1`" in shown and "`acct_2`" in shown and "enforcement_manual_done" in shown
    assert {a.status for a in actions(vigil).values()} == {"awaiting_manual"}
    assert vigil.enforce() == 0  # there is nothing to call
    assert request_row(vigil).manual is True and request_row(vigil).status == "approved"
    card = vigil.slack.wait_for("chat.update", where=lambda c: "awaiting manual" in json.dumps(c["blocks"]))
    assert "suspended" not in card[-1]["text"]


def test_an_engineer_marks_the_hand_off_done_and_it_is_audited(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    approve_and_wait(vigil)
    handed = hand_off(vigil)
    vigil.send.block_action(
        "enforcement_manual_done", "1", user=ENGINEER, channel=ENGINEERING, message_ts="1764000000.000099"
    )
    recorded = in_thread(vigil, f"<@{ENGINEER}> recorded 2 account(s)")[0]["text"]
    assert "suspended by hand" in recorded
    assert {(a.status, a.executed_by) for a in actions(vigil).values()} == {("done", ENGINEER)}
    assert request_row(vigil).status == "completed"
    assert "enforcement.manual_done" in audit_actions(vigil)
    vigil.slack.wait_for("chat.update", where=lambda c: c.get("channel") == ENGINEERING)  # button gone
    assert handed["channel"] == ENGINEERING

    vigil.send.block_action("enforcement_manual_done", "1", user=ENGINEER, channel=ENGINEERING)
    ephemerals_to(vigil, ENGINEER, "nothing awaiting manual execution")


def test_the_hand_off_cannot_be_marked_done_from_elsewhere(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    click(vigil, "enforcement_manual_done", user=ANALYST, channel=APPROVALS)
    ephemerals_to(vigil, ANALYST, "engineering channel")
    assert actions(vigil)["acct_1"].status == "awaiting_manual"


def test_a_large_hand_off_attaches_the_full_list(vigil: Vigil) -> None:
    accounts = [f"acct_{n}" for n in range(45)]
    ask(vigil, accounts=" ".join(accounts))
    approve_and_wait(vigil)
    assert "and 15 more" in json.dumps(hand_off(vigil)["blocks"])
    uploaded = vigil.slack.wait_for("file.upload")[0]["body"].decode()
    assert uploaded.splitlines() == ["account_id", *accounts]


def test_only_an_engineer_or_admin_who_did_not_ask_marks_the_hand_off_done(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2", user=ADMIN)  # an admin may ask, as an analyst
    approve_and_wait(vigil, user=LEAD)
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("channel") == ENGINEERING)

    def press(user: str) -> None:
        vigil.send.block_action("enforcement_manual_done", "1", user=user, channel=ENGINEERING)

    press(ADMIN)  # the requester, though an admin
    ephemerals_to(vigil, ADMIN, "so someone else records that it was executed")
    for bystander in (ANALYST_2, LEAD):  # in the channel, but no engineer (approvers neither)
        press(bystander)
        ephemerals_to(vigil, bystander, "Only Vigil engineers (`roles.engineers`) or admins")
    assert {a.status for a in actions(vigil).values()} == {"awaiting_manual"}
    assert "enforcement.manual_done" not in audit_actions(vigil)

    press(ENGINEER)
    in_thread(vigil, f"<@{ENGINEER}> recorded 2 account(s)")
    assert {(a.status, a.executed_by) for a in actions(vigil).values()} == {("done", ENGINEER)}


def test_an_admin_who_did_not_ask_may_record_it_too(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil)
    vigil.send.block_action("enforcement_manual_done", "1", user=ADMIN, channel=ENGINEERING)
    in_thread(vigil, f"<@{ADMIN}> recorded 1 account(s)")
    assert request_row(vigil).status == "completed"


def test_roles_engineers_takes_slack_ids_and_defaults_to_nobody() -> None:
    assert parse_config({**config_data(), "roles": {}}).roles.engineers == []
    bad = {**config_data(), "roles": {"engineers": ["bob"]}}
    with pytest.raises(ConfigError, match=r"roles\.engineers\.0: 'bob' is not a Slack user id"):
        parse_config(bad)

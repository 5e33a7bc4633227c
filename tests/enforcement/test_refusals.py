"""A refusal is a code and the fields it is about; Slack words it with mentions, the CLI and
the logs in plain text, and both say the same thing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.blocks.enforcement import conflict_text, refusal_text
from tests.harness.enforcement_steps import ENGINEER, approve_and_wait, ask, click, ephemerals_to
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, LEAD, LEAD_2
from workflows.enforcement import (
    Expired,
    OpenAction,
    OpenRequestConflict,
    Refused,
    approve,
    mark_manual_done,
)
from workflows.ports import MessageRef


def test_a_late_approval_is_refused_by_code_and_slack_names_who_decided(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    approve_and_wait(vigil, user=LEAD)
    with pytest.raises(Refused) as caught, vigil.db.transaction() as session:
        approve(session, vigil.clock, 1, LEAD_2, is_admin=False, manual=True)
    refused = caught.value
    assert (refused.code, refused.request_ref, refused.status, refused.decided_by) == (
        "already_decided",
        "REQ-1",
        "approved",
        LEAD,
    )
    assert refusal_text(refused) == f"REQ-1 was already approved by <@{LEAD}>. Nothing changed."
    assert refusal_text(refused, plain=True) == f"REQ-1 was already approved by {LEAD}. Nothing changed."

    click(vigil, "enforcement_approve", user=LEAD_2)  # the same refusal, from the button
    assert ephemerals_to(vigil, LEAD_2, "already approved")[0]["text"] == refusal_text(refused)


def test_four_eyes_refusals_say_which_step_someone_else_takes(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    with pytest.raises(Refused) as own, vigil.db.transaction() as session:
        approve(session, vigil.clock, 1, ANALYST, is_admin=False, manual=True)
    assert (own.value.code, own.value.step) == ("own_request", "approve")
    assert refusal_text(own.value) == "You asked for REQ-1, so someone else must approve it (four-eyes)."

    approve_and_wait(vigil, user=LEAD)  # manual mode: handed to Engineering
    with pytest.raises(Refused) as record, vigil.db.transaction() as session:
        mark_manual_done(session, vigil.clock, 1, ANALYST, is_engineer=True)
    assert (record.value.code, record.value.step) == ("own_request", "record")
    with pytest.raises(Refused) as not_engineer, vigil.db.transaction() as session:
        mark_manual_done(session, vigil.clock, 1, LEAD_2, is_engineer=False)
    assert not_engineer.value.code == "not_engineer"
    assert "(`roles.engineers`)" in refusal_text(not_engineer.value)  # a code span in Slack
    assert "(roles.engineers)" in refusal_text(not_engineer.value, plain=True)  # the command line
    with vigil.db.transaction() as session:
        assert mark_manual_done(session, vigil.clock, 1, ENGINEER, is_engineer=True) == 1
    with pytest.raises(Refused) as nothing, vigil.db.transaction() as session:
        mark_manual_done(session, vigil.clock, 1, ENGINEER, is_engineer=True)
    assert nothing.value.code == "nothing_manual"
    said = refusal_text(nothing.value, plain=True)
    assert said == "REQ-1 has nothing awaiting manual execution. Nothing changed."


def _every_refusal() -> list[Refused]:
    open_one = OpenAction("acct_1", 4, "suspend", "pending_approval", card=MessageRef("C0APR0001", "1.0"))
    open_two = OpenAction("acct_2", 5, "suspend", "approved", manual=True)
    return [
        Refused("not_found", request_ref="REQ-9"),
        Refused("own_request", request_ref="REQ-1", step="approve"),
        Refused("own_request", request_ref="REQ-1", step="decide"),
        Refused("own_request", request_ref="REQ-1", step="record"),
        Refused("not_engineer", request_ref="REQ-1"),
        Refused("nothing_manual", request_ref="REQ-1"),
        Refused("reason_required"),
        Refused("approved_twice", request_ref="REQ-1"),
        Expired("REQ-1", timedelta(hours=72)),
        Refused("already_decided", request_ref="REQ-1", status="pending_approval"),
        Refused("already_decided", request_ref="REQ-1", status="expired"),
        Refused("already_decided", request_ref="REQ-1", status="rejected", decided_by=LEAD),
        Refused("already_decided", request_ref="REQ-1", status="completed", decided_by=LEAD_2),
        Refused("already_decided", request_ref="REQ-1", status="approved"),
        OpenRequestConflict("suspend", [open_one]),
        OpenRequestConflict("suspend", [open_one, open_two]),
    ]


@pytest.mark.parametrize("refused", _every_refusal(), ids=lambda r: f"{r.code}")
def test_slack_and_the_command_line_word_every_refusal_alike(refused: Refused) -> None:
    slack, plain = refusal_text(refused), refusal_text(refused, plain=True)
    assert "<@" not in plain and "`" not in plain and "*" not in plain
    unmarked = slack.replace("`", "")
    for user in (LEAD, LEAD_2):
        unmarked = unmarked.replace(f"<@{user}>", user)
    assert unmarked == plain


def test_the_words_people_were_told_before_codes_existed_are_kept() -> None:
    said = {
        r.code + (f":{r.step or r.status}" if r.step or r.status else ""): refusal_text(r)
        for r in _every_refusal()
    }
    assert said["not_found"] == "REQ-9 does not exist."
    assert said["own_request:decide"] == "You asked for REQ-1; another approver decides it (four-eyes)."
    assert said["own_request:record"] == "You asked for REQ-1, so someone else records that it was executed."
    assert said["expired"] == (
        "REQ-1 expired: nobody approved it within 3d (enforcement.request_ttl). "
        "Nothing was executed; ask again if it is still needed."
    )
    assert said["already_decided:pending_approval"] == (
        "You already approved REQ-1; it needs another approver "
        "(someone other than you and the requester) or an admin."
    )
    assert (
        said["already_decided:expired"]
        == "REQ-1 expired: nobody approved it in time. Nothing was executed or changed."
    )
    assert said["already_decided:approved"] == "REQ-1 was already approved. Nothing changed."


def test_a_conflict_in_the_modal_links_each_open_request() -> None:
    open_one = OpenAction("acct_1", 4, "suspend", "pending_approval")
    conflict = OpenRequestConflict("suspend", [open_one])
    linked = conflict_text(conflict, {4: "https://slack.example/archives/C0APR0001/p1"})
    assert linked == (
        "acct_1 already has an open suspend request: REQ-4 (https://slack.example/archives/C0APR0001/p1), "
        "waiting for approval. Nothing was created; follow that request instead of asking again."
    )
    assert refusal_text(conflict, plain=True) == conflict_text(conflict)  # the CLI's line, no link

"""A T&S day with /suspend and /reinstate: ask, approve (never your own), execute once."""

from __future__ import annotations

import json
import threading

from bot.fakes.enforcement import FakeEnforcement
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    audit_actions,
    card,
    click,
    ephemerals_to,
    in_thread,
    request_row,
)
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import (
    ADMIN,
    ANALYST,
    ANALYST_2,
    APPROVALS,
    ESCALATIONS,
    LEAD,
    LEAD_2,
    OUTSIDER,
    config_data,
)
from workflows.audit import verify
from workflows.config import parse_config


def test_suspend_opens_the_modal_at_once_prefilled_from_the_command(vigil: Vigil) -> None:
    response = vigil.send.command("/suspend", "acct_1, acct_2 spam CASE-12", user=ANALYST)
    assert response.status_code == 200
    opened = vigil.slack.wait_for("views.open")[0]
    assert opened["trigger_id"].startswith("trigger.")
    view = opened["view"]
    assert view["callback_id"] == "enforcement_request"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks["accounts"]["element"]["initial_value"] == "acct_1\nacct_2"
    assert blocks["reason"]["element"]["initial_option"]["value"] == "spam"
    assert blocks["evidence"]["element"]["initial_value"] == "CASE-12"
    assert blocks["file"]["element"]["type"] == "file_input"
    assert "checklist" not in blocks  # only a reinstatement has the review checklist
    assert json.loads(view["private_metadata"]) == {"action": "suspend", "channel": ESCALATIONS}


def test_reinstate_has_the_review_checklist(vigil: Vigil) -> None:
    vigil.send.command("/reinstate", "acct_1", user=ANALYST)
    blocks = {b["block_id"]: b for b in vigil.slack.wait_for("views.open")[0]["view"]["blocks"]}
    assert {"checklist", "root_cause"} <= set(blocks)


def test_someone_without_a_role_is_refused_before_any_modal(vigil: Vigil) -> None:
    response = vigil.send.command("/suspend", "acct_1 spam", user=OUTSIDER)
    assert response.json()["response_type"] == "ephemeral"
    assert "only Vigil analysts" in response.json()["text"]
    assert vigil.slack.calls_of("views.open") == []


def test_an_approved_suspension_is_executed_once_with_its_idempotency_key(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    response = ask(
        enforcing, accounts="acct_1 acct_2", evidence="https://admin/acct_1 CASE-12", note="spam wave"
    )
    assert response.status_code == 200 and response.text == ""  # the modal closes

    posted = card(enforcing)
    assert "Approve" in json.dumps(posted["blocks"]) and "Reject" in json.dumps(posted["blocks"])
    assert "acct_1" in json.dumps(posted["blocks"]) and f"<@{ANALYST}>" in json.dumps(posted["blocks"])
    link = ephemerals_to(enforcing, ANALYST, "is waiting for approval")[0]
    assert link["channel"] == ESCALATIONS and "https://vigil-test.slack.com/archives/" in link["text"]
    assert request_row(enforcing).case_ref == "CASE-12"
    assert fake_enforcement.calls == []  # nothing happens before approval
    assert enforcing.enforce() == 0

    approve_and_wait(enforcing, user=LEAD)
    assert enforcing.enforce() == 2
    for account in ("acct_1", "acct_2"):
        (call,) = fake_enforcement.calls_for(account)
        assert call.action == "suspend"
        assert call.key == f"vigil:REQ-1:{account}:suspend"
        assert call.body == {
            "reason_code": "spam",
            "note": "spam wave",
            "request_id": "REQ-1",
            "actor": ANALYST,
            "approved_by": [LEAD],
        }
        assert fake_enforcement.accounts[account]["state"] == "suspended"
    assert enforcing.enforce() == 0  # nothing runs twice

    # Results are written in batches, so under load the two may come in one message or two.
    in_thread(enforcing, "`acct_1` suspended")
    in_thread(enforcing, "`acct_2` suspended")
    assert "finished" in in_thread(enforcing, "REQ-1 finished")[0]["text"]
    updated = enforcing.slack.wait_for("chat.update", where=lambda c: "completed" in c["text"])[-1]
    assert "2 suspended" in json.dumps(updated["blocks"])
    assert request_row(enforcing).status == "completed"
    assert {a.status for a in actions(enforcing).values()} == {"done"}
    trail = audit_actions(enforcing)
    assert trail[:2] == ["enforcement.requested", "enforcement.approved"]
    assert trail.count("enforcement.action") == 2 and trail[-1] == "enforcement.completed"
    with enforcing.db.read() as session:
        assert verify(session).ok


def test_nobody_approves_their_own_request(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1", user=LEAD)  # an approver may ask, as an analyst
    card(enforcing)
    click(enforcing, "enforcement_approve", user=LEAD)
    assert "four-eyes" in ephemerals_to(enforcing, LEAD, "four-eyes")[0]["text"]
    assert request_row(enforcing).status == "pending_approval"
    assert enforcing.enforce() == 0 and fake_enforcement.calls == []


def test_an_analyst_cannot_approve(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    card(enforcing)
    click(enforcing, "enforcement_approve", user=ANALYST_2)
    assert "only Vigil approvers" in ephemerals_to(enforcing, ANALYST_2, "only Vigil approvers")[0]["text"]
    assert request_row(enforcing).status == "pending_approval"
    assert enforcing.enforce() == 0


def test_a_double_click_and_two_approvers_at_once_execute_once(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    card(enforcing)
    clicks = [
        threading.Thread(target=click, args=(enforcing, "enforcement_approve"), kwargs={"user": user})
        for user in (LEAD, LEAD, LEAD_2, LEAD_2)
    ]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    in_thread(enforcing, "approved REQ-1")
    enforcing.slack.wait_for("chat.postEphemeral", where=lambda c: "already approved" in c["text"], count=3)
    assert len(request_row(enforcing).decided_by or "") > 0
    assert enforcing.enforce() == 1
    assert len(fake_enforcement.calls_for("acct_1")) == 1
    assert audit_actions(enforcing).count("enforcement.approved") == 1


def test_a_click_after_the_decision_changes_nothing(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing, user=LEAD)
    click(enforcing, "enforcement_approve", user=LEAD_2)
    assert f"already approved by <@{LEAD}>" in ephemerals_to(enforcing, LEAD_2, "already")[0]["text"]
    click(enforcing, "enforcement_reject", user=LEAD_2)
    ephemerals_to(enforcing, LEAD_2, "already approved", count=2)
    assert enforcing.slack.calls_of("views.open") == []  # no reject modal for a decided request


def test_reject_asks_for_a_reason_and_records_it(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    card(enforcing)
    click(enforcing, "enforcement_reject", user=LEAD)
    modal = enforcing.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "enforcement_reject"

    empty = enforcing.send.view_submission(
        "enforcement_reject",
        {"reason": {"value": {"type": "plain_text_input", "value": "  "}}},
        user=LEAD,
        private_metadata=modal["private_metadata"],
    )
    assert empty.json()["response_action"] == "errors" and "reason" in empty.json()["errors"]

    enforcing.send.view_submission(
        "enforcement_reject",
        {"reason": {"value": {"type": "plain_text_input", "value": "evidence is a <!channel> screenshot"}}},
        user=LEAD,
        private_metadata=modal["private_metadata"],
    )
    said = in_thread(enforcing, "rejected REQ-1")[0]["text"]
    assert "&lt;!channel&gt;" in said and "<!channel>" not in said
    request = request_row(enforcing)
    assert request.status == "rejected" and request.rejection_reason == "evidence is a <!channel> screenshot"
    assert {a.status for a in actions(enforcing).values()} == {"cancelled"}
    assert "enforcement.rejected" in audit_actions(enforcing)
    assert enforcing.enforce() == 0 and fake_enforcement.calls == []
    click(enforcing, "enforcement_approve", user=LEAD_2)  # too late
    assert "already rejected" in ephemerals_to(enforcing, LEAD_2, "already rejected")[0]["text"]


def test_big_requests_need_two_different_approvers(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    data = config_data()
    data["enforcement"]["second_approval_over"] = 2
    vigil = make_vigil(fake_enforcement, config=parse_config(data))
    fake_enforcement.add("acct_1", "acct_2", "acct_3")
    ask(vigil, accounts="acct_1 acct_2 acct_3")
    assert "Needs 2 more approval(s)" in json.dumps(card(vigil)["blocks"])

    click(vigil, "enforcement_approve", user=LEAD)
    assert "needs 1 more approval" in in_thread(vigil, "needs 1 more")[0]["text"]
    assert "1 of 2 so far" in json.dumps(vigil.slack.wait_for("chat.update")[0]["blocks"])
    assert vigil.enforce() == 0
    click(vigil, "enforcement_approve", user=LEAD)  # the same approver again does not count
    ephemerals_to(vigil, LEAD, "You already approved REQ-1")
    assert request_row(vigil).status == "pending_approval"

    click(vigil, "enforcement_approve", user=LEAD_2)
    in_thread(vigil, "approved REQ-1. Executing")
    assert vigil.enforce() == 3
    assert {tuple(c.body["approved_by"]) for c in fake_enforcement.calls} == {(LEAD, LEAD_2)}


def test_one_admin_is_enough_for_a_big_request(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    data = config_data()
    data["enforcement"]["second_approval_over"] = 2
    vigil = make_vigil(fake_enforcement, config=parse_config(data))
    fake_enforcement.add("acct_1", "acct_2", "acct_3")
    ask(vigil, accounts="acct_1 acct_2 acct_3")
    approve_and_wait(vigil, user=ADMIN)
    assert vigil.enforce() == 3


def test_an_account_already_suspended_is_done_without_change(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", state="suspended")
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.enforce()
    assert actions(enforcing)["acct_1"].status == "already_in_state"
    assert "was already suspended" in in_thread(enforcing, "already suspended")[0]["text"]


def test_vigil_account_shows_the_history(enforcing: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)
    enforcing.enforce()
    enforcing.send.command("/vigil", "account acct_1", user=ANALYST_2)
    reply = enforcing.slack.wait_for("response_url")[0]
    shown = json.dumps(reply["blocks"])
    assert reply["response_type"] == "ephemeral"
    assert "REQ-1" in shown and "suspend" in shown and f"<@{LEAD}>" in shown and "done" in shown
    enforcing.send.command("/vigil", "account acct_nobody", user=ANALYST_2)
    assert "No enforcement history" in json.dumps(
        enforcing.slack.wait_for("response_url", count=2)[1]["blocks"]
    )
    outsider = enforcing.send.command("/vigil", "account acct_1", user=OUTSIDER)
    assert "only Vigil analysts" in outsider.json()["text"]


def test_the_approvals_channel_card_escapes_what_people_typed(enforcing: Vigil) -> None:
    ask(enforcing, accounts="acct_1", evidence="<!channel> look", note="<@U0CX00001> & co")
    shown = json.dumps(card(enforcing)["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown and "&amp; co" in shown
    assert card(enforcing)["channel"] == APPROVALS

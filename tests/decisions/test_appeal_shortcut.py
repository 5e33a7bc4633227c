"""A suspended guest writes to support; the CX agent's message is turned into an appeal with the
"Create Vigil case" shortcut. The appeal is linked to the suspension it contests, so it has its
deadline and only someone independent of the suspension can decide it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.fakes.enforcement import FakeEnforcement
from store.cases import Case
from store.decisions import AppealRow
from tests.decisions.test_appeals import appeal_row, press, suspended
from tests.harness.enforcement_steps import ephemerals_to
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ANALYST, LEAD, LEAD_2, OUTSIDER

SUPPORT = "C0GENERAL"
MESSAGE = {
    "type": "message",
    "ts": "1764300000.000100",
    "user": OUTSIDER,
    "text": "Guest acct_1 writes: I only sent two messages, please give me my account back.",
}
APPEAL_ID = f"slack-{SUPPORT}-{MESSAGE['ts']}"


def open_form(vigil: Vigil, user: str = ANALYST) -> dict[str, Any]:
    vigil.send.interactive(
        {
            "type": "message_action",
            "callback_id": "create_case",
            "trigger_id": "t.1",
            "user": {"id": user},
            "channel": {"id": SUPPORT},
            "message": MESSAGE,
            "response_url": vigil.send.response_url,
        }
    )
    modal: dict[str, Any] = vigil.slack.wait_for("views.open")[-1]["view"]
    return modal


def submit(
    vigil: Vigil, modal: dict[str, Any], category: str, account: str | None, action: str | None
) -> httpx.Response:
    values = {
        "category": {"category": {"type": "static_select", "selected_option": {"value": category}}},
        "priority": {"priority": {"type": "static_select", "selected_option": {"value": "P2"}}},
        "appeal_account": {"appeal_account": {"type": "plain_text_input", "value": account}},
        "appeal_action": {"appeal_action": {"type": "plain_text_input", "value": action}},
    }
    return vigil.send.view_submission(
        "case_create", values, user=ANALYST, private_metadata=modal["private_metadata"]
    )


def errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    body: dict[str, Any] = response.json() if response.content else {}
    assert body.get("response_action") == "errors", body
    return dict(body["errors"])


def appeals(vigil: Vigil) -> int:
    with vigil.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AppealRow)) or 0)


def test_an_appeal_made_with_the_shortcut_is_linked_to_the_suspension_and_decided_independently(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    modal = open_form(desk)
    shown = json.dumps(modal["blocks"])
    assert "appeal_account" in shown and "appeal_action" in shown

    # The analyst forgets the fields, then mistypes them: the form says which, and stays open.
    missing = errors(submit(desk, modal, "appeal", None, None))
    assert set(missing) == {"appeal_account", "appeal_action"}
    assert "not an account id" in errors(submit(desk, modal, "appeal", "acct 1!", "REQ-1"))["appeal_account"]
    assert "REQ-n" in errors(submit(desk, modal, "appeal", "acct_1", "REQ 1; drop"))["appeal_action"]
    assert appeals(desk) == 0

    created = submit(desk, modal, "appeal", "acct_1", "req-1")
    assert created.status_code == 200 and not created.content.strip(b"{}")
    ephemerals_to(desk, ANALYST, "Appeal opened as CASE-1")
    row = appeal_row(desk, APPEAL_ID)
    assert (row.request_id, row.account_id, row.case_id) == (1, "acct_1", 1)
    assert row.links == [f"https://vigil-test.slack.com/archives/{SUPPORT}/p1764300000000100"]
    assert "only sent two messages" in row.text
    with desk.db.read() as session:
        case = session.get(Case, 1)
        assert case is not None and case.category == "appeal"
        assert case.sla_due_at - case.created_at == timedelta(hours=72)

    # The same form sent again opens nothing more.
    assert (
        "expired or was already used" in errors(submit(desk, modal, "appeal", "acct_1", "REQ-1"))["category"]
    )
    assert appeals(desk) == 1

    # The lead approved the suspension, so cannot decide its appeal; another lead can.
    press(desk, "appeal_uphold", LEAD, APPEAL_ID)
    assert "REQ-1" in ephemerals_to(desk, LEAD, "You approved")[0]["text"]
    press(desk, "appeal_uphold", LEAD_2, APPEAL_ID)
    modal = desk.slack.wait_for("views.open", where=lambda c: c["view"]["callback_id"] == "appeal_uphold")
    values = {"reason": {"value": {"type": "plain_text_input", "value": "The links were spam."}}}
    done = desk.send.view_submission(
        "appeal_uphold", values, user=LEAD_2, private_metadata=modal[0]["view"]["private_metadata"]
    )
    assert done.status_code == 200
    desk.run_jobs()
    # The platform never issued this appeal's id: the team answers the user, Vigil says so.
    desk.slack.wait_for("chat.postMessage", where=lambda c: "the platform is not told" in c.get("text", ""))
    assert appeal_row(desk, APPEAL_ID).outcome == "upheld"
    assert fake_enforcement.appeal_outcomes == []


def test_an_appeal_against_an_unknown_action_is_an_error_on_the_form_and_opens_no_case(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    modal = open_form(desk)
    unknown = errors(submit(desk, modal, "appeal", "acct_1", "REQ-99"))
    assert unknown == {"appeal_action": "no executed suspension of acct_1 in REQ-99"}
    wrong_account = errors(submit(desk, modal, "appeal", "acct_2", "REQ-1"))
    assert wrong_account == {"appeal_action": "no executed suspension of acct_2 in REQ-1"}
    assert (
        "no statement" in errors(submit(desk, modal, "appeal", "acct_1", "vigil-req9-act9"))["appeal_action"]
    )
    with desk.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert appeals(desk) == 0

    # Nothing was lost: the same form, corrected, opens the appeal.
    assert submit(desk, modal, "appeal", "acct_1", "REQ-1").status_code == 200
    ephemerals_to(desk, ANALYST, "Appeal opened as CASE-1")


def test_other_categories_ignore_the_appeal_fields(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    modal = open_form(desk)
    assert submit(desk, modal, "user_report", None, "not checked").status_code == 200

    def case() -> Case | None:
        with desk.db.read() as session:
            return session.scalars(select(Case).where(Case.ts == MESSAGE["ts"])).first()

    opened = eventually(case)
    assert opened.category == "user_report" and appeals(desk) == 0

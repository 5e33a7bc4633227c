"""A suspended user appeals (DSA Art. 20). The platform posts the appeal; it becomes a case
with its own deadline; someone who had no part in the suspension decides it: Uphold tells the
platform why, Overturn is a reinstatement through normal approval, counted as reversed on appeal."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store.cases import Case
from store.decisions import AppealRow
from tests.decisions.conftest import APPEALS_TOKEN
from tests.harness.enforcement_steps import approve_and_wait, ask, ephemerals_to, eventually
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import ADMIN, ANALYST, ESCALATIONS, LEAD, LEAD_2


def appeal(vigil: Vigil, token: str | None = APPEALS_TOKEN, **body: Any) -> httpx.Response:
    payload = {
        "appeal_id": "apl-1",
        "account_id": "acct_1",
        "request_id": "REQ-1",
        "text": "I only sent two messages.",
    }
    payload |= body
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{vigil.server.url}/api/v1/appeals", json=payload, headers=headers, timeout=30)


def suspended(make_vigil: VigilFactory, fake_enforcement: FakeEnforcement) -> Vigil:
    """acct_1 was suspended for spam: asked by the analyst, approved by the lead, executed."""
    fake_enforcement.add("acct_1", "acct_2")
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts="acct_1", evidence="400 links in an hour")
    approve_and_wait(desk)
    desk.enforce()
    return desk


def appeal_row(vigil: Vigil, appeal_id: str = "apl-1") -> AppealRow:
    with vigil.db.read() as session:
        row = session.scalars(select(AppealRow).where(AppealRow.appeal_id == appeal_id)).one()
        session.expunge(row)
        return row


def press(vigil: Vigil, action: str, user: str, appeal_id: str = "apl-1") -> None:
    row = appeal_row(vigil, appeal_id)
    response = vigil.send.block_action(
        action,
        appeal_id,
        user=user,
        channel=row.message_channel or ESCALATIONS,
        message_ts=row.message_ts or "",
    )
    assert response.status_code == 200


def test_an_appeal_becomes_a_case_with_its_deadline_and_bad_appeals_are_refused(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    assert appeal(desk, token=None).status_code == 401
    assert appeal(desk, token="wrong").status_code == 401
    unknown = appeal(desk, request_id="REQ-99")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error": "unknown_action",
        "reason": "no executed suspension of acct_1 in REQ-99",
    }
    assert appeal(desk, puid="vigil-req9-act9", request_id=None).status_code == 404
    both = appeal(desk, puid="vigil-req1-act1")
    assert both.status_code == 400 and "exactly one of puid or request_id" in both.json()["error"]

    created = appeal(desk, links=["https://example.com/screenshot.png"])
    assert created.status_code == 201 and created.json() == {"case": "CASE-1", "late": False}
    again = appeal(desk)
    assert again.status_code == 200 and again.json()["case"] == "CASE-1"  # delivered twice: one case

    with desk.db.read() as session:
        case = session.get(Case, 1)
        assert case is not None and case.category == "appeal"
        assert case.sla_due_at - case.created_at == timedelta(hours=72)
    posted = desk.slack.wait_for("chat.postMessage", where=lambda c: "Appeal apl-1" in str(c.get("text")))[0]
    shown = json.dumps(posted["blocks"])
    assert "Decide by:" in shown and "appeal_uphold" in shown and "appeal_overturn" in shown
    assert "screenshot.png" in shown

    # The suspension's statement id works as well as its request id.
    with desk.db.read() as session:
        from store.decisions import StatementRow

        puid = session.scalars(select(StatementRow.puid)).first()
    second = appeal(desk, appeal_id="apl-2", puid=puid, request_id=None)
    assert second.status_code == 201 and second.json()["case"] == "CASE-2"


def test_an_appeal_past_six_months_is_accepted_but_flagged(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    desk.clock.advance(timedelta(days=200))
    late = appeal(desk)
    assert late.status_code == 201 and late.json()["late"] is True
    assert appeal_row(desk).late
    posted = desk.slack.wait_for("chat.postMessage", where=lambda c: "Appeal apl-1" in str(c.get("text")))[0]
    assert "after the appeal window" in json.dumps(posted["blocks"])


def test_those_who_made_the_decision_cannot_decide_the_appeal_and_uphold_tells_the_platform(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    appeal(desk)
    press(desk, "appeal_uphold", LEAD)
    assert "REQ-1" in ephemerals_to(desk, LEAD, "You approved")[0]["text"]
    press(desk, "appeal_overturn", ANALYST)
    assert "REQ-1" in ephemerals_to(desk, ANALYST, "You asked for")[0]["text"]
    assert not desk.slack.calls_of("views.open")

    press(desk, "appeal_uphold", LEAD_2)
    modal = desk.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "appeal_uphold"
    values = {"reason": {"value": {"type": "plain_text_input", "value": "The links were spam."}}}
    done = desk.send.view_submission(
        "appeal_uphold", values, user=LEAD_2, private_metadata=modal["private_metadata"]
    )
    assert done.status_code == 200
    desk.run_jobs()
    eventually(lambda: fake_enforcement.appeal_outcomes, what="the platform to be told")
    assert fake_enforcement.appeal_outcomes == [
        ("apl-1", {"kind": "appeal", "outcome": "upheld", "reason": "The links were spam."})
    ]
    row = appeal_row(desk)
    assert row.outcome == "upheld" and row.decided_by == LEAD_2
    with desk.db.read() as session:
        case = session.get(Case, 1)
        assert case is not None and case.status == "resolved"
    desk.slack.wait_for("chat.update", where=lambda c: "Upheld" in json.dumps(c.get("blocks")))
    press(desk, "appeal_overturn", ADMIN)
    assert "already decided" in ephemerals_to(desk, ADMIN, "already decided")[0]["text"]


def test_an_overturn_goes_through_approval_and_is_decided_when_approved(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    appeal(desk)
    press(desk, "appeal_overturn", LEAD_2)
    modal = desk.slack.wait_for("views.open")[0]["view"]
    shown = json.dumps(modal)
    assert "Reinstate" in shown and "acct_1" in shown and "CASE-1 appeal apl-1 against REQ-1" in shown

    ask(
        desk,
        action="reinstate",
        user=LEAD_2,
        accounts="acct_1",
        evidence="CASE-1 appeal apl-1 against REQ-1",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="the velocity rule counted a shared link twice",
    )
    row = appeal_row(desk)
    assert row.reinstatement_request_id == 2 and row.outcome is None
    press(desk, "appeal_uphold", ADMIN)  # while the overturn awaits approval, nobody upholds it
    assert "REQ-2" in ephemerals_to(desk, ADMIN, "awaiting approval")[0]["text"]

    approve_and_wait(desk, request_id=2, user=ADMIN)
    desk.enforce()
    desk.run_jobs()
    eventually(lambda: fake_enforcement.appeal_outcomes, what="the platform to be told")
    assert fake_enforcement.appeal_outcomes == [
        (
            "apl-1",
            {
                "kind": "appeal",
                "outcome": "overturned",
                "reason": "the velocity rule counted a shared link twice",
            },
        )
    ]
    row = appeal_row(desk)
    assert row.outcome == "overturned" and row.decided_by == LEAD_2
    assert fake_enforcement.accounts["acct_1"]["state"] == "active"


def test_a_reinstatement_by_the_original_requester_is_not_an_overturn(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = suspended(make_vigil, fake_enforcement)
    appeal(desk)
    ask(
        desk,
        action="reinstate",
        user=ANALYST,
        accounts="acct_1",
        evidence="CASE-1",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="changed my mind",
    )
    assert appeal_row(desk).reinstatement_request_id is None
    approve_and_wait(desk, request_id=2, user=LEAD_2)
    assert appeal_row(desk).outcome is None


def test_the_digest_counts_an_overturn_as_reversed_on_appeal(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    from commands.blocks.reports import appeals_text, enforcement_fields
    from workflows.periods import week_of
    from workflows.reports.build import appeals_in, enforcement_in

    desk = suspended(make_vigil, fake_enforcement)
    ask(desk, accounts="acct_2", evidence="spam too")  # REQ-2: reversed otherwise, later
    approve_and_wait(desk, request_id=2)
    desk.enforce()
    appeal(desk)
    press(desk, "appeal_overturn", LEAD_2)
    ask(
        desk,
        action="reinstate",
        user=LEAD_2,
        accounts="acct_1",
        evidence="CASE-1 appeal apl-1 against REQ-1",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="shared link counted twice",
    )
    approve_and_wait(desk, request_id=3, user=ADMIN)
    ask(
        desk,
        action="reinstate",
        user=LEAD_2,
        accounts="acct_2",
        evidence="support ticket",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="a test account",
    )
    approve_and_wait(desk, request_id=4, user=ADMIN)
    desk.enforce()
    desk.clock.advance(timedelta(hours=5))
    period = week_of(desk.clock.now().date(), desk.ctx.config.tz, desk.clock.now())
    with desk.db.read() as session:
        figures = enforcement_in(session, period)
        appeals = appeals_in(session, period)
    assert (figures.reversals.suspended, figures.reversals.reversed, figures.reversals.on_appeal) == (2, 2, 1)
    assert "1 on appeal, 1 otherwise" in json.dumps([f.text for f in enforcement_fields(figures)])
    assert (appeals.received, appeals.decided, appeals.overturned, appeals.past_deadline) == (1, 1, 1, 0)
    assert appeals_text(appeals).startswith("*Appeals* · 1 received, 1 decided (1 overturned)")

"""What goes wrong with statements, and what Vigil does about it: the requester's own facts
with an email in them, a database that is down or refuses a field, facts that carry personal
data, a batch bigger than the database takes, a config that forgot a reason code."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.fakes.dsa import FakeTransparencyDatabase
from bot.fakes.enforcement import FakeEnforcement
from store.decisions import FAILED, FROZEN, SUBMITTED, StatementRow
from tests.decisions.conftest import dsa_config_data
from tests.harness.enforcement_steps import approve_and_wait, ask, card, modal_values
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import ANALYST, ANALYST_2
from workflows.config import ConfigError, parse_config


def statements(vigil: Vigil) -> list[StatementRow]:
    with vigil.db.read() as session:
        return list(session.scalars(select(StatementRow).order_by(StatementRow.id)))


def ask_with_facts(vigil: Vigil, facts: str, accounts: str = "acct_1") -> dict:
    values = modal_values(accounts=accounts, reason="fraud", evidence="CASE-3 fake listings")
    values["decision_facts"] = {"value": {"type": "plain_text_input", "value": facts}}
    metadata = json.dumps({"action": "suspend", "channel": None})
    response = vigil.send.view_submission(
        "enforcement_request", values, user=ANALYST, private_metadata=metadata
    )
    return response.json() if response.content else {}


def test_a_reason_code_without_a_category_refuses_to_start_naming_it() -> None:
    data = dsa_config_data()
    del data["dsa"]["categories"]["harassment"]
    with pytest.raises(ConfigError, match=r"dsa.categories.*harassment"):
        parse_config(data)
    data = dsa_config_data(territorial_scope=["DE", "US"])
    with pytest.raises(ConfigError, match=r"dsa.territorial_scope.*US"):
        parse_config(data)


def test_the_requester_writes_the_facts_and_the_approver_reads_them_on_the_card(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    desk = make_vigil(fake_enforcement)
    desk.send.command("/suspend", "acct_1 fraud", user=ANALYST)
    opened = json.dumps(desk.slack.wait_for("views.open")[0]["view"])
    assert "decision_facts" in opened and "no personal data" in opened

    refused = ask_with_facts(desk, "Listed 12 fake flats; paid to anna.k@mail.example")
    assert refused["response_action"] == "errors"
    assert (
        "email at" in refused["errors"]["decision_facts"]
        and "anna.k@mail.example" in refused["errors"]["decision_facts"]
    )
    assert statements(desk) == []

    ask_with_facts(desk, "Listed 12 fake flats and took deposits for them.")
    [statement] = statements(desk)
    assert statement.body["decision_facts"] == "Listed 12 fake flats and took deposits for them."
    assert statement.body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement.body["illegal_content_legal_ground"] == "Section 263 StGB (fraud)"
    shown = json.dumps(card(desk)["blocks"])
    assert "Statement of reasons" in shown and "1 draft" in shown
    assert "Listed 12 fake flats" in shown and "STATEMENT_CATEGORY_SCAMS_AND_FRAUD" in shown


def test_the_database_down_then_refusing_a_field_keeps_the_statement_and_says_which(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, dsa_database: FakeTransparencyDatabase
) -> None:
    fake_enforcement.add("acct_1")
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts="acct_1", evidence="CASE-1 spam")
    approve_and_wait(desk)
    desk.enforce()
    assert desk.ctx.decisions is not None

    dsa_database.outage = 503
    assert desk.ctx.decisions.submit_due() == 0
    [kept] = statements(desk)
    assert kept.status == FAILED and kept.error == "HTTP 503" and kept.next_attempt_at is not None
    assert desk.ctx.decisions.submit_due() == 0  # waits for its backoff: no second call yet
    assert len(dsa_database.calls) == 1

    dsa_database.outage = None
    desk.clock.advance(timedelta(minutes=2))
    # The platform changed what it accepts: a statement with a category the database does not know.
    with desk.db.transaction() as session:
        body = dict(kept.body) | {"category": "STATEMENT_CATEGORY_UNKNOWN"}
        session.execute(update(StatementRow).values(body=body))
    assert desk.ctx.decisions.submit_due() == 0
    [refused] = statements(desk)
    assert refused.status == FAILED and refused.error is not None
    assert refused.error.startswith("category:")  # the 422 names the field
    assert dsa_database.stored == {}

    desk.send.command("/vigil", "account acct_1", user=ANALYST_2)
    shown = json.dumps(desk.slack.wait_for("response_url")[0]["blocks"])
    assert "Statements of reasons" in shown and refused.puid in shown and "category:" in shown


def test_personal_data_in_the_facts_blocks_submission_naming_the_span(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, dsa_database: FakeTransparencyDatabase
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts="acct_1 acct_2", evidence="CASE-1 spam")
    approve_and_wait(desk)
    desk.enforce()
    first = statements(desk)[0]
    with desk.db.transaction() as session:
        body = dict(first.body) | {
            "decision_facts": "Logged in from 203.0.113.7 and paid with 4111 1111 1111 1111"
        }
        session.execute(update(StatementRow).where(StatementRow.id == first.id).values(body=body))
    assert desk.ctx.decisions is not None
    assert desk.ctx.decisions.submit_due() == 1  # the clean one goes; the other waits for a person
    blocked, sent = statements(desk)
    assert sent.status == SUBMITTED and list(dsa_database.stored) == [sent.puid]
    assert blocked.status == "blocked" and blocked.next_attempt_at is None
    assert (
        blocked.error is not None
        and "ip at 15-26 ('203.0.113.7')" in blocked.error
        and "card at" in blocked.error
    )
    assert desk.ctx.decisions.submit_due() == 0


def test_statements_go_in_batches_of_at_most_one_hundred(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, dsa_database: FakeTransparencyDatabase
) -> None:
    wave = [f"spam_{n:03d}" for n in range(150)]
    fake_enforcement.add(*wave)
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts=" ".join(wave), evidence="CASE-1 spam wave")
    approve_and_wait(desk)
    desk.enforce()
    assert {s.status for s in statements(desk)} == {FROZEN}
    assert desk.ctx.decisions is not None
    assert desk.ctx.decisions.run_until_idle() == 150
    assert [count for count, _ in dsa_database.calls] == [100, 50]
    assert len(dsa_database.stored) == 150


def test_a_rejected_or_expired_request_withdraws_its_drafts(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, dsa_database: FakeTransparencyDatabase
) -> None:
    desk = make_vigil(fake_enforcement)
    ask(desk, accounts="acct_1", evidence="maybe spam")
    ask(desk, accounts="acct_2", evidence="maybe spam too")
    card(desk, 1)
    desk.ctx.enforcer.reject(1, "U0LEAD001", "not enough to go on")
    desk.clock.advance(timedelta(hours=73))
    assert desk.ctx.enforcer.expire_due() == [2]
    assert [s.status for s in statements(desk)] == ["withdrawn", "withdrawn"]
    assert desk.ctx.decisions is not None and desk.ctx.decisions.run_until_idle() == 0
    assert dsa_database.calls == []

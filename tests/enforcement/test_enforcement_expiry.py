"""Requests expire: nobody approves a suspension asked for days ago, by a clock that moves
only when the story says so."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from bot.scheduler import SCHEDULE
from store.enforcement import EnforcementEvent
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    audit_actions,
    card,
    card_updates,
    click,
    ephemerals_to,
    request_row,
)
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST_2, LEAD, LEAD_2, config_data
from workflows import enforcement as workflow
from workflows.config import ConfigError, parse_config
from workflows.enforcement import Expired


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_request_nobody_approved_for_73_hours_expires_and_nothing_executes(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    ask(enforcing, accounts="acct_1")
    card(enforcing)
    enforcing.clock.advance(timedelta(hours=73))
    click(enforcing, "enforcement_approve", user=LEAD)
    told = ephemerals_to(enforcing, LEAD, "expired")[0]["text"]
    assert told.startswith("REQ-1 expired: nobody approved it within 3d (enforcement.request_ttl).")
    assert request_row(enforcing).status == "expired"
    assert actions(enforcing)["acct_1"].status == "cancelled"
    card_updates(enforcing, 1, "Expired:")
    assert "Approve" not in dump(card_updates(enforcing, 1, "Expired:")[-1]["blocks"])
    assert enforcing.enforce() == 0 and fake_enforcement.calls == []
    trail = audit_actions(enforcing)
    assert "enforcement.expired" in trail and "enforcement.approved" not in trail

    click(enforcing, "enforcement_approve", user=LEAD_2)  # a later click is told, nothing changes
    ephemerals_to(enforcing, LEAD_2, "REQ-1 expired")
    click(enforcing, "enforcement_reject", user=LEAD_2)
    ephemerals_to(enforcing, LEAD_2, "REQ-1 expired", count=2)
    assert enforcing.slack.calls_of("views.open") == []
    # An expired request holds nothing: the account may be asked for again.
    assert ask(enforcing, accounts="acct_1", user=ANALYST_2).text == ""


def test_the_scheduled_tick_expires_old_requests_and_updates_their_cards(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    card(vigil)
    vigil.clock.advance(timedelta(hours=71))
    ask(vigil, accounts="acct_2", user=ANALYST_2)  # younger: stays
    card(vigil, 2)
    assert vigil.ctx.enforcer.expire_due() == []
    vigil.clock.advance(timedelta(hours=1, minutes=1))
    (_name, trigger, job) = next(entry for entry in SCHEDULE if entry[0] == "enforcement-expire")
    assert trigger(vigil.ctx).interval <= timedelta(minutes=5)
    job(vigil.ctx)()  # the scheduler's tick
    assert request_row(vigil, 1).status == "expired"
    assert vigil.ctx.enforcer.expire_due() == []  # once
    card_updates(vigil, 1, "Expired:")
    assert request_row(vigil, 1).status == "expired" and request_row(vigil, 2).status == "pending_approval"
    with vigil.db.read() as session:
        kinds = list(session.scalars(select(EnforcementEvent.kind).where(EnforcementEvent.request_id == 1)))
    assert kinds == ["requested", "expired"]
    approve_and_wait(vigil, 2)  # within its time: approved as usual


def test_an_approval_past_the_ttl_is_refused_by_the_decision_itself(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    vigil.clock.advance(timedelta(hours=72))
    with pytest.raises(Expired), vigil.db.transaction() as session:
        workflow.approve(session, vigil.clock, 1, LEAD, is_admin=False, manual=True, ttl=timedelta(hours=72))
    assert request_row(vigil).status == "pending_approval"  # the tick or the click expires it


def test_request_ttl_is_a_duration_in_the_config() -> None:
    assert parse_config(config_data()).enforcement.request_ttl == timedelta(hours=72)
    data = config_data()
    data["enforcement"]["request_ttl"] = "1d"
    assert parse_config(data).enforcement.request_ttl == timedelta(days=1)
    data["enforcement"]["request_ttl"] = "soon"
    with pytest.raises(ConfigError, match=r"enforcement\.request_ttl: invalid duration 'soon'"):
        parse_config(data)

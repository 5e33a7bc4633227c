"""Bulk suspension: a spam wave of 2,000 accounts, a restart in the middle, nothing twice."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from store import enforcement as ledger
from tests.harness.enforcement_steps import (
    actions,
    ask,
    card,
    click,
    eventually,
    in_thread,
    request_row,
)
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import LEAD, LEAD_2


def suspend_calls(fake: FakeEnforcement) -> int:
    with fake._lock:
        return sum(1 for c in fake.calls if c.action == "suspend")


def test_a_bulk_of_2000_survives_a_restart_and_calls_each_account_once(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, fake_slack: FakeSlack
) -> None:
    wave = [f"spam_{n:04d}" for n in range(2000)]
    unknown = set(wave[-3:])  # deleted before we got to them
    fake_enforcement.add(*[a for a in wave if a not in unknown])
    fake_enforcement.accounts["spam_0007"]["state"] = "suspended"  # someone was faster
    first = make_vigil(fake_enforcement)

    csv = ("\ufeffaccount_id\n" + "\n".join(wave) + "\n\n").encode()
    ask(first, files=[fake_slack.user_file("wave.csv", csv)], evidence="CASE-31 spam wave")
    posted = json.dumps(card(first)["blocks"])
    assert "2,000" in posted and "2 different approvers, or one admin" in posted
    precheck = fake_slack.wait_for(
        "chat.update", where=lambda c: "Pre-check with the enforcement API: 1" in json.dumps(c["blocks"])
    )
    assert "3 unknown" in json.dumps(precheck[-1]["blocks"])

    click(first, "enforcement_approve", user=LEAD)
    in_thread(first, "needs 1 more approval")
    click(first, "enforcement_approve", user=LEAD_2)
    in_thread(first, "approved REQ-1. Executing 2,000")

    first.ctx.enforcer.start()
    eventually(lambda: suspend_calls(fake_enforcement) >= 500, what="the first 500 calls")
    first.ctx.enforcer.stop()  # the process goes down mid-bulk
    first.stop()
    stopped_at = suspend_calls(fake_enforcement)
    statuses = {a.status for a in actions(first).values()}
    assert stopped_at < 2000 and "pending" in statuses and "running" not in statuses

    second = make_vigil(fake_enforcement)  # a fresh process on the same database
    second.ctx.enforcer.start()
    eventually(lambda: request_row(second).status == "completed", what="the bulk to finish")
    second.ctx.enforcer.stop()

    calls = [c for c in fake_enforcement.calls if c.action == "suspend"]
    assert len(calls) == 2000
    assert sorted(c.account_id for c in calls) == wave  # every account, each exactly once
    assert all(c.key == f"vigil:REQ-1:{c.account_id}:suspend" for c in calls)
    outcomes = {a.account_id: a.status for a in actions(second).values()}
    assert outcomes["spam_0007"] == "already_in_state"
    assert {outcomes[a] for a in unknown} == {"failed"}
    assert list(outcomes.values()).count("done") == 1996

    progress = fake_slack.wait_for("chat.postMessage", where=lambda c: ":gear: REQ-1" in str(c.get("text")))
    assert len(progress) == 1  # one progress message, updated in place
    summary = in_thread(second, "REQ-1 finished")[0]["text"]
    assert "1,996 suspended, 1 already suspended, 3 failed" in summary
    failures_csv = fake_slack.wait_for("file.upload")[0]["body"].decode()
    assert sorted(line.split(",")[0] for line in failures_csv.splitlines()[1:]) == sorted(unknown)
    assert not any(
        c.get("thread_ts") and "`spam_0001`" in str(c.get("text"))
        for c in fake_slack.calls_of("chat.postMessage")
    )


def test_a_worker_that_died_holding_a_lease_is_taken_over_with_the_same_key(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    ask(enforcing, accounts="acct_1 acct_2")
    card(enforcing)
    click(enforcing, "enforcement_approve", user=LEAD)
    in_thread(enforcing, "approved REQ-1")
    with enforcing.db.transaction() as session:  # another replica claimed them, then died
        lease_now = enforcing.lease_clock.now()
        claimed = ledger.claim_due_actions(
            session, "dead-replica", enforcing.clock.now(), lease_now, timedelta(seconds=30), 10
        )
    assert len(claimed) == 2
    assert enforcing.enforce() == 0  # its lease still holds
    enforcing.lease_clock.advance(timedelta(seconds=31))
    assert enforcing.enforce() == 2
    for account in ("acct_1", "acct_2"):
        (call,) = fake_enforcement.calls_for(account)
        assert call.key == f"vigil:REQ-1:{account}:suspend"
    assert request_row(enforcing).status == "completed"
    with enforcing.db.transaction() as session:  # the dead replica coming back cannot undo it
        assert ledger.release(session, claimed, "dead-replica", enforcing.clock.now()) == 0

"""A bulk's results reach the ledger in batches: a statement per table per batch, never one
per account, and every account is called exactly once (counted, never timed)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event

from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from tests.harness.enforcement_steps import actions, ask, card, click, in_thread, request_row
from tests.harness.vigil import TEST_ENFORCER, VigilFactory
from tests.harness.world import ADMIN
from workflows.enforcement import EnforcerOptions

# Batches close on size only (100 results) or when nothing is left in flight, so the count
# of batches does not depend on how fast this machine is.
BY_SIZE = EnforcerOptions(
    call_timeout=TEST_ENFORCER.call_timeout,
    poll_seconds=TEST_ENFORCER.poll_seconds,
    flush_every=3600.0,
    flush_batch=100,
    progress_every=0.0,
)


def test_a_wave_of_250_is_recorded_in_three_batches_of_a_few_statements(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, fake_slack: FakeSlack
) -> None:
    wave = [f"wave_{n:03d}" for n in range(250)]
    fake_enforcement.add(*wave)
    vigil = make_vigil(fake_enforcement, options=BY_SIZE)
    csv = ("account_id\n" + "\n".join(wave) + "\n").encode()
    ask(vigil, files=[fake_slack.user_file("wave.csv", csv)], evidence="CASE-7 spam wave")
    card(vigil)
    click(vigil, "enforcement_approve", user=ADMIN)
    in_thread(vigil, "approved REQ-1")

    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        text = " ".join(sql.split()).upper()
        if text.startswith("UPDATE ENFORCEMENT_ACTIONS SET") and "RESULT_CODE=" in text.replace(" ", ""):
            statements["results"] += 1
        elif text.startswith("INSERT INTO ENFORCEMENT_EVENTS"):
            statements["events"] += 1
        elif text.startswith("INSERT INTO AUDIT_LOG"):
            statements["audit"] += 1

    event.listen(vigil.db.engine, "before_cursor_execute", count)
    try:
        assert vigil.enforce() == 250
    finally:
        event.remove(vigil.db.engine, "before_cursor_execute", count)

    calls = Counter(c.account_id for c in fake_enforcement.calls if c.action == "suspend")
    assert sorted(calls) == wave and set(calls.values()) == {1}  # each account, once
    assert {a.status for a in actions(vigil).values()} == {"done"}
    assert request_row(vigil).status == "completed"
    # 250 results: at most three batches (100, 100, the rest), each one UPDATE (executemany)
    # and one INSERT of the events; the audit rows go in with each batch's chain lookup. The
    # request's own "completed" event is one more event insert.
    assert 2 <= statements["results"] <= 3
    assert statements["events"] <= statements["results"] + 1
    assert statements["audit"] <= statements["results"] + 1

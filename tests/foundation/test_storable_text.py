"""Whatever the outside world sends, Vigil can store it: NUL characters and broken UTF-16
(lone surrogates), which PostgreSQL refuses, become U+FFFD at the column, on every table."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store.base import clean_json, clean_text
from store.cases import Case, CaseEvent
from tests.harness.enforcement_steps import actions, approve_and_wait, ask, in_thread
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ESCALATIONS
from workflows import audit

LONE = "\ud83d"  # half of an emoji: valid in a Python str and in JSON's \u escapes, not in UTF-8


def test_an_api_error_text_with_nul_is_stored_and_the_action_does_not_repeat_forever(
    enforcing: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1", "acct_2")
    fake_enforcement.then("acct_1", 500, error="deadlock\x00 in shard 7")
    fake_enforcement.then("acct_2", 422, error=f"note rejected\x00{LONE}")
    ask(enforcing, accounts="acct_1 acct_2")
    approve_and_wait(enforcing)
    enforcing.enforce()

    first, second = actions(enforcing)["acct_1"], actions(enforcing)["acct_2"]
    assert first.status == "pending" and first.result_code == 500  # recorded, retried later
    assert first.error == "deadlock\ufffd in shard 7"
    assert second.status == "failed" and second.error == "note rejected\ufffd\ufffd"
    enforcing.clock.advance(timedelta(seconds=5))
    enforcing.enforce()
    assert actions(enforcing)["acct_1"].status == "done"
    enforcing.clock.advance(timedelta(hours=1))
    assert enforcing.enforce() == 0  # nothing repeats
    assert len(fake_enforcement.calls_for("acct_1", "suspend")) == 2
    assert len(fake_enforcement.calls_for("acct_2", "suspend")) == 1
    assert "note rejected" in in_thread(enforcing, "acct_2")[0]["text"]
    with enforcing.db.read() as session:  # the audit rows took the same text, and verify
        assert audit.verify(session).ok


def test_a_slack_message_with_nul_and_broken_utf16_becomes_a_case(vigil: Vigil) -> None:
    ts = vigil.post(f"please suspend acct_9\x00 spam wave {LONE} started at noon")

    def case() -> Case | None:
        with vigil.db.read() as session:
            return session.scalars(select(Case).where(Case.channel == ESCALATIONS, Case.ts == ts)).first()

    created = eventually(case)
    assert created.text == "please suspend acct_9\ufffd spam wave \ufffd started at noon"
    assert vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)
    with vigil.db.read() as session:
        assert session.scalars(select(CaseEvent).where(CaseEvent.case_id == created.id)).first()


def test_the_one_helper_keeps_what_is_storable_and_replaces_what_is_not() -> None:
    assert clean_text("plain ascii") == "plain ascii"
    assert clean_text("ünï 😀 кириллица") == "ünï 😀 кириллица"
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean_text(f"x{LONE}y") == "x\ufffdy"
    assert clean_text("\ud83d\ude00") == "😀"  # a pair of halves is the character they encode
    assert clean_json({"k\x00": [f"v{LONE}", 1.5, float("nan"), {"n": float("inf")}, True, None]}) == {
        "k\ufffd": ["v\ufffd", 1.5, None, {"n": None}, True, None]
    }

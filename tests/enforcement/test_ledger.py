"""The ledger's decisions are single statements in store/enforcement, on SQLite and PostgreSQL:
whoever races them, each passes once."""

from __future__ import annotations

from datetime import timedelta

from store import enforcement as ledger
from tests.harness.enforcement_steps import ENGINEER, approve_and_wait, ask, card
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, LEAD, LEAD_2


def test_an_approval_counts_once_never_for_the_requester_and_never_when_too_old(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    now = vigil.clock.now()
    with vigil.db.transaction() as session:
        assert ledger.approve_if_pending(session, 1, ANALYST, now, None) is None  # their own request
        too_old = now  # only requests created after this instant are still fresh
        assert ledger.approve_if_pending(session, 1, LEAD, now, too_old) is None
        assert ledger.approve_if_pending(session, 1, LEAD, now, now - timedelta(hours=72)) == (1, 1)
        assert ledger.add_approval(session, 1, LEAD, "approve", now)
        assert ledger.approve_if_pending(session, 1, LEAD, now, None) is None  # the same person again
        assert not ledger.add_approval(session, 1, LEAD, "approve", now)  # a double click is a no-op
        assert ledger.approvers_of(session, 1) == [LEAD]


def test_a_request_is_closed_exactly_once_when_nothing_is_outstanding(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    approve_and_wait(vigil)  # manual mode: both accounts await Engineering
    now = vigil.clock.now()
    with vigil.db.transaction() as session:
        assert not ledger.complete_if_finished(session, 1, now)  # two accounts still outstanding
        assert ledger.manual_accounts(session, 1) == ["acct_1", "acct_2"]
        assert ledger.record_manual_done(session, 1, ENGINEER, now) == 2
        assert ledger.complete_if_finished(session, 1, now)
        assert not ledger.complete_if_finished(session, 1, now)  # the second caller loses
        assert ledger.status_counts(session, 1) == {"done": 2}


def test_expiry_takes_only_pending_requests_from_before_the_cutoff(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    card(vigil)
    vigil.clock.advance(timedelta(hours=1))
    ask(vigil, accounts="acct_2")
    card(vigil, 2)
    now = vigil.clock.now()
    with vigil.db.transaction() as session:
        assert ledger.expire_pending(session, now - timedelta(hours=2), now) == []
        assert ledger.expire_pending(session, now, now, request_id=2) == [2]
        assert ledger.expire_pending(session, now, now) == [1]
        assert ledger.expire_pending(session, now, now) == []  # already expired: nothing to take
        assert ledger.cancel_awaiting(session, 1, now) == 1


def test_what_is_open_on_an_account_and_what_was_done_to_it(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    approve_and_wait(vigil)
    with vigil.db.transaction() as session:  # Engineering suspended both by hand
        ledger.record_manual_done(session, 1, ENGINEER, vigil.clock.now())
        ledger.complete_if_finished(session, 1, vigil.clock.now())
    ask(vigil, action="reinstate", accounts="acct_1", reason="other", checklist=["appeal_reviewed",
        "evidence_rechecked"], root_cause="a travelling host")  # fmt: skip
    card(vigil, 2)
    with vigil.db.read() as session:
        suspended = ledger.latest_executed_suspensions(session, ["acct_1", "acct_2", "acct_3"])
        assert {a: row.request_id for a, row in suspended.items()} == {"acct_1": 1, "acct_2": 1}
        ((action, request),) = ledger.open_requests_for_account(session, "acct_1")
        assert (action.action, request.id, request.reverses_request_id) == ("reinstate", 2, 1)
        history = ledger.history_of_account(session, "acct_1")
        assert [(a.action, r.id) for a, r in history] == [("reinstate", 2), ("suspend", 1)]
        assert ledger.request_of_action(session, history[0][0].reverses_action_id or 0) == 1
        assert ledger.open_actions_for(session, ["acct_1", "acct_2"], "suspend") == []
        (row,) = ledger.open_actions_for(session, ["acct_1", "acct_2"])
        assert (row.account_id, row.request_id, row.request_status) == ("acct_1", 2, "pending_approval")
        assert ledger.latest_request_ids(session) == [2, 1]
        assert ledger.latest_request_ids(session, "completed") == [1]
        assert ledger.conflicting_requests(session, 2) == []  # the suspension is done, not open


def test_a_reinstatement_while_the_suspension_is_open_is_a_conflict_on_both(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    card(vigil)
    ask(vigil, action="reinstate", accounts="acct_2", reason="other", checklist=["appeal_reviewed",
        "evidence_rechecked"], root_cause="wrong account")  # fmt: skip
    card(vigil, 2)
    with vigil.db.read() as session:
        (theirs,) = ledger.conflicting_requests(session, 1)
        assert (theirs.request_id, theirs.action, theirs.accounts, theirs.sample) == (
            2,
            "reinstate",
            1,
            ["acct_2"],
        )
        (mine,) = ledger.conflicting_requests(session, 2)
        assert (mine.request_id, mine.status, mine.sample) == (1, "pending_approval", ["acct_2"])
    approve_and_wait(vigil, 2, user=LEAD_2)

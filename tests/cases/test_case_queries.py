"""The questions the cases workflow asks the store (store/cases.py), on SQLite and PostgreSQL:
each decision is one conditional UPDATE with exactly one winner, and the queue reads come
back most urgent first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from store import cases as store
from store.db import Database
from tests.harness.world import ANALYST, ANALYST_2, ESCALATIONS, MONDAY


def case_row(ts: str, priority: str = "P3", due: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    return {
        "channel": ESCALATIONS,
        "ts": ts,
        "source": "channel",
        "author": None,
        "author_is_bot": False,
        "text": f"case {ts}",
        "category": "other",
        "priority": priority,
        "status": "new",
        "escalations": 0,
        "created_at": MONDAY,
        "updated_at": MONDAY,
        "sla_due_at": MONDAY + due,
        "source_deleted": False,
    }


def new_case(session: Session, ts: str, priority: str = "P3", due: timedelta = timedelta(hours=24)) -> int:
    assert store.add_case_unless_exists(session, case_row(ts, priority, due))
    case = store.case_by_source(session, ESCALATIONS, ts)
    assert case is not None
    return case.id


def ids(cases: list[store.Case]) -> list[int]:
    return [c.id for c in cases]


def test_one_case_per_message_whoever_delivers_it_first(db: Database) -> None:
    with db.transaction() as session:
        first = new_case(session, "1.1")
        again = {**case_row("1.1", "P1", timedelta(0)), "source": "shortcut"}  # the shortcut, late
        assert not store.add_case_unless_exists(session, again)
        case = store.case_by_source(session, ESCALATIONS, "1.1")
        assert case is not None and (case.id, case.source, case.priority) == (first, "channel", "P3")
        assert store.case_by_source(session, ESCALATIONS, "9.9") is None


def test_a_claim_has_one_winner_and_only_the_owner_releases(db: Database) -> None:
    with db.transaction() as session:
        case_id = new_case(session, "2.1")
    later = MONDAY + timedelta(minutes=5)
    with db.transaction() as session:
        assert store.claim_if_unclaimed(session, case_id, ANALYST, later)
        assert not store.claim_if_unclaimed(session, case_id, ANALYST_2, later)
        assert not store.claim_if_unclaimed(session, case_id, ANALYST, later)  # a double click
        case = store.case_by_id(session, case_id)
        assert case is not None and (case.claimed_by, case.status, case.claimed_at) == (
            ANALYST,
            "claimed",
            later,
        )
    with db.transaction() as session:
        assert not store.release_if_owner(session, case_id, ANALYST_2, later)
        assert store.release_if_owner(session, case_id, ANALYST, later)
        assert not store.release_if_owner(session, case_id, ANALYST, later)
        case = store.case_by_id(session, case_id)
        assert case is not None and (case.claimed_by, case.status, case.claimed_at) == (None, "new", None)
    with db.transaction() as session:
        assert not store.claim_if_unclaimed(session, 999, ANALYST, later)  # no such case


def test_a_case_is_resolved_once_and_a_resolved_case_cannot_be_claimed(db: Database) -> None:
    with db.transaction() as session:
        case_id = new_case(session, "3.1")
    with db.transaction() as session:
        assert store.resolve_if_open(session, case_id, ANALYST, "actioned", MONDAY)
        assert not store.resolve_if_open(session, case_id, ANALYST_2, "no_action", MONDAY)
        assert not store.claim_if_unclaimed(session, case_id, ANALYST_2, MONDAY)
        case = store.case_by_id(session, case_id)
        assert case is not None and (case.outcome, case.resolved_by) == ("actioned", ANALYST)


def test_sla_marks_and_the_card_are_set_once_ever(db: Database) -> None:
    with db.transaction() as session:
        case_id = new_case(session, "4.1")
    with db.transaction() as session:
        assert store.mark_sla_nudged_once(session, case_id, MONDAY)
        assert not store.mark_sla_nudged_once(session, case_id, MONDAY + timedelta(hours=1))
        assert store.mark_sla_breached_once(session, case_id, MONDAY)
        assert not store.mark_sla_breached_once(session, case_id, MONDAY)
        assert store.keep_card_if_unset(session, case_id, "1.2", "https://slack.example/p1")
        assert not store.keep_card_if_unset(session, case_id, "1.3", None)
        case = store.case_by_id(session, case_id)
        assert case is not None and (case.card_ts, case.sla_nudged_at) == ("1.2", MONDAY)


def test_a_note_is_found_by_its_own_ts_in_the_case_channel(db: Database) -> None:
    with db.transaction() as session:
        case_id = new_case(session, "5.1")
        store.add_event(session, case_id, MONDAY, ANALYST, "note", {"ts": "5.2", "text": "checked"})
    with db.read() as session:
        owner = store.case_of_note(session, ESCALATIONS, "5.2")
        assert owner is not None and owner.id == case_id
        assert store.case_of_note(session, "C0OTHER01", "5.2") is None
        assert store.case_of_note(session, ESCALATIONS, "5.1") is None  # the case itself is no note
        assert store.case_exists(session, case_id) and not store.case_exists(session, case_id + 1)


def test_the_open_cases_come_back_most_urgent_first(db: Database) -> None:
    with db.transaction() as session:
        p3 = new_case(session, "6.1", "P3", timedelta(hours=24))
        p1_late = new_case(session, "6.2", "P1", timedelta(hours=2))
        p1_soon = new_case(session, "6.3", "P1", timedelta(hours=1))
        done = new_case(session, "6.4", "P1", timedelta(minutes=5))
        p2_mine = new_case(session, "6.5", "P2", timedelta(hours=4))
        assert store.resolve_if_open(session, done, ANALYST, "duplicate", MONDAY)
        assert store.claim_if_unclaimed(session, p2_mine, ANALYST, MONDAY)
        store.add_accounts(session, p3, ["acct_2", "acct_1"])
    with db.read() as session:
        assert store.count_open_cases(session) == 4
        assert ids(store.most_urgent_open_cases(session, 10)) == [p1_soon, p1_late, p2_mine, p3]
        assert ids(store.most_urgent_open_cases(session, 2)) == [p1_soon, p1_late]
        assert ids(store.open_cases_claimed_by(session, ANALYST, 10)) == [p2_mine]
        assert ids(store.unclaimed_open_cases(session, 10)) == [p1_soon, p1_late, p3]
        assert ids(store.open_cases_due_by(session, MONDAY + timedelta(hours=3), 10)) == [p1_soon, p1_late]
        assert store.accounts_of(session, p3) == ["acct_1", "acct_2"]
    with db.transaction() as session:
        assert store.mark_sla_breached_once(session, p1_soon, MONDAY)
    with db.read() as session:
        due_never_breached = store.open_cases_due_by_never_breached(session, MONDAY + timedelta(hours=4))
        assert sorted(ids(due_never_breached)) == sorted([p1_late, p2_mine])


def test_a_locked_case_is_the_one_asked_for(db: Database) -> None:
    with db.transaction() as session:
        case_id = new_case(session, "7.1")
    with db.transaction() as session:
        locked = store.lock_case(session, case_id)
        assert locked is not None and locked.id == case_id
        assert store.lock_case(session, case_id + 1) is None

"""Built-in triage and account spotting: explainable rules an analyst can predict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.cases import CaseView, DefaultTriage, find_accounts, sla_state
from workflows.config import Enforcement

PATTERN = Enforcement().account_id_regex()


@pytest.mark.parametrize(
    ("text", "category", "priority"),
    [
        ("Please reinstate acct_1, appeal attached", "reinstatement_request", "P3"),
        ("Suspend this user now, it's fraud", "suspension_request", "P2"),
        ("Host is threatening guests", "host_report", "P1"),
        ("Guest report: rude messages", "user_report", "P3"),
        ("CX ticket 4411: customer complaint about a listing", "cx_escalation", "P3"),
        ("FYI question: why was this listing removed?", "abuse_inquiry", "P4"),
        ("something odd", "other", "P3"),
    ],
)
def test_default_triage(text: str, category: str, priority: str) -> None:
    triage = DefaultTriage().triage(text, [])
    assert (triage.category, triage.priority) == (category, priority)
    assert all(":" in reason for reason in triage.reasons)


def test_accounts_are_found_by_shape_or_cue_and_slack_markup_is_skipped() -> None:
    text = (
        "acct_123 and user:42 were reported; see account 99812 and host id #5501. "
        "<@U0ANA0001> <https://admin.example.com/u/acct_9|acct_9> 2024 tickets, acct_123 again."
    )
    assert find_accounts(text, PATTERN) == ["acct_123", "user:42", "99812", "5501", "acct_9"]
    assert find_accounts("nothing here, 40 guests and 3 hosts", PATTERN) == []


def _view(created: datetime, due: datetime, resolved: datetime | None = None) -> CaseView:
    return CaseView(
        id=1,
        ref="CASE-1",
        channel="C",
        ts="1",
        source="channel",
        author=None,
        text="",
        category="other",
        priority="P3",
        status="resolved" if resolved else "new",
        outcome=None,
        escalations=0,
        created_at=created,
        sla_due_at=due,
        claimed_by=None,
        claimed_at=None,
        resolved_by=None,
        resolved_at=resolved,
        card_ts=None,
        permalink=None,
        source_deleted=False,
    )


def test_sla_states() -> None:
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    case = _view(start, start + timedelta(hours=4))
    assert sla_state(case, start + timedelta(hours=2)).state == "ok"
    assert sla_state(case, start + timedelta(hours=3)).state == "at_risk"
    assert sla_state(case, start + timedelta(hours=5)).state == "breached"
    assert (
        sla_state(_view(start, start + timedelta(hours=4), start + timedelta(hours=1)), start).state == "met"
    )
    assert (
        sla_state(_view(start, start + timedelta(hours=4), start + timedelta(hours=6)), start).state
        == "missed"
    )

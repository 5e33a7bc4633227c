"""Built-in triage: explainable keyword rules an analyst can predict."""

from __future__ import annotations

import pytest

from workflows.cases.triage import CATEGORIES, PRIORITIES, DefaultTriage


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


def test_the_first_matching_category_and_the_most_urgent_priority_win_and_say_why() -> None:
    # A reinstatement request about a host, with a threat in it: the list order decides.
    triage = DefaultTriage().triage("Host asks to REINSTATE acct_7 after a threat, no rush", [])
    assert (triage.category, triage.priority) == ("reinstatement_request", "P1")
    assert triage.reasons == ["category reinstatement_request: 'reinstate'", "priority P1: 'threat'"]


def test_keywords_match_whole_words_only() -> None:
    # "ghostly" holds "host" and "tomatoes" holds "ato" (account takeover): neither counts.
    triage = DefaultTriage().triage("a ghostly figure among the tomatoes", [])
    assert (triage.category, triage.priority, triage.reasons) == ("other", "P3", [])


def test_triage_only_answers_with_known_categories_and_priorities() -> None:
    texts = ["ban them", "unsuspend please", "zendesk", "subpoena", "csam", "phishing", "fyi", ""]
    for text in texts:
        triage = DefaultTriage().triage(text, [])
        assert triage.category in CATEGORIES and triage.priority in PRIORITIES

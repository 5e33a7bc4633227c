"""Intake: what the cases workflow takes from outside, checked (accounts a message mentions,
the case references people type, the overrides of the shortcut)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from workflows.cases.intake import CaseOverrides, find_accounts, parse_case_ref
from workflows.config import EnforcementSettings

PATTERN = EnforcementSettings().account_id_regex()


def test_accounts_are_found_by_shape_or_cue_and_slack_markup_is_skipped() -> None:
    text = (
        "acct_123 and user:42 were reported; see account 99812 and host id #5501. "
        "<@U0ANA0001> <https://admin.example.com/u/acct_9|acct_9> 2024 tickets, acct_123 again."
    )
    assert find_accounts(text, PATTERN) == ["acct_123", "user:42", "99812", "5501", "acct_9"]
    assert find_accounts("nothing here, 40 guests and 3 hosts", PATTERN) == []


def test_a_bare_link_or_a_mention_is_never_an_account() -> None:
    assert find_accounts("<https://example.com/acct_1> <@U0ANA0001> <#C0ESC0001|acct_2>", PATTERN) == [
        "acct_2"
    ]


def test_trailing_punctuation_is_not_part_of_an_id_and_ids_without_digits_are_words() -> None:
    assert find_accounts("Suspend acct_77. Then user:5: done", PATTERN) == ["acct_77", "user:5"]
    assert find_accounts("account holder_name and user:bob", PATTERN) == []


def test_accounts_outside_the_configured_pattern_are_skipped() -> None:
    only_acct = re.compile(r"acct_\d+")
    assert find_accounts("acct_1, user:2, account 3", only_acct) == ["acct_1"]


def test_a_flood_of_ids_stops_at_the_limit() -> None:
    text = " ".join(f"acct_{n}" for n in range(80))
    assert find_accounts(text, PATTERN) == [f"acct_{n}" for n in range(50)]
    assert find_accounts(text, PATTERN, limit=3) == ["acct_0", "acct_1", "acct_2"]


@pytest.mark.parametrize(
    ("typed", "case_id"),
    [
        ("CASE-12", 12),
        ("case-12", 12),
        ("  Case-7 ", 7),
        ("12", 12),
        ("CASE-", None),
        ("CASE-12a", None),
        ("REQ-12", None),
        ("-3", None),
        ("", None),
    ],
)
def test_case_references_as_people_type_them(typed: str, case_id: int | None) -> None:
    assert parse_case_ref(typed) == case_id


def test_overrides_only_take_known_categories_and_priorities() -> None:
    assert CaseOverrides(category="host_report", priority="P1").priority == "P1"
    assert CaseOverrides() == CaseOverrides(category=None, priority=None)
    with pytest.raises(ValidationError):
        CaseOverrides(category="spam")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CaseOverrides(priority="P0")  # type: ignore[arg-type]

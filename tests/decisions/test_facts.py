"""The facts of a public statement carry no personal data: what the check finds and removes."""

from __future__ import annotations

from workflows.decisions import find_personal_data, redact
from workflows.decisions.facts import luhn


def kinds(text: str, known: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_personal_data(text, known)]


def test_emails_phones_ips_and_account_ids_are_found() -> None:
    assert kinds("write to a.b+x@example.co.uk now") == [("email", "a.b+x@example.co.uk")]
    assert kinds("called +49 30 1234567 twice") == [("phone", "+49 30 1234567")]
    assert kinds("from 198.51.100.23 and 2001:db8::1") == [("ip", "198.51.100.23"), ("ip", "2001:db8::1")]
    assert kinds("linked to acct_991 and user-7f3a") == [("account", "acct_991"), ("account", "user-7f3a")]
    assert kinds("the host zz9 did it", ("zz9",)) == [("account", "zz9")]


def test_a_card_number_is_a_card_only_when_its_luhn_digit_is_right() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    assert kinds("paid with 4111-1111-1111-1111") == [("card", "4111-1111-1111-1111")]
    assert kinds("order 4111 1111 1111 1112") == []  # sixteen digits failing Luhn: an order number


def test_what_is_not_personal_data_stays() -> None:
    text = "Sent 400 links in 1 hour on 2026-11-30, version 1.2.3, CASE-12, REQ-4"
    assert find_personal_data(text) == []
    assert redact(text) == text


def test_redaction_names_what_it_removed() -> None:
    assert redact("mail bob@example.com from 10.0.0.1") == "mail [email removed] from [ip removed]"

"""Redaction on a corpus of tricky cases: what a T&S thread really holds. Each value becomes
a stable placeholder, restoring gives the text back, and look-alikes (dates, order numbers,
version strings, times, non-Luhn digit runs) are left alone."""

from __future__ import annotations

import re

import pytest

from workflows.ai import Redactor, redact
from workflows.ai.redact import PLACEHOLDER, leaked, luhn_ok

ACCOUNTS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")  # the default: almost any word

# (text, kind, value that must be gone)
CORPUS = [
    ("mail me at jane.doe+tns@example.co.uk please", "EMAIL", "jane.doe+tns@example.co.uk"),
    ("in angle brackets <carl@mail.example.org> too", "EMAIL", "carl@mail.example.org"),
    ("Slack link <mailto:bob@ex.com|bob@ex.com> here", "EMAIL", "bob@ex.com"),
    ("internationalised maría@correo.es address", "EMAIL", "maría@correo.es"),
    ("UK +44 20 7946 0958 office", "PHONE", "+44 20 7946 0958"),
    ("US +1 (415) 555-2671 cell", "PHONE", "+1 (415) 555-2671"),
    ("US national (415) 555-2671", "PHONE", "(415) 555-2671"),
    ("France 06 12 34 56 78 portable", "PHONE", "06 12 34 56 78"),
    ("Germany +49 30 901820 Büro", "PHONE", "+49 30 901820"),
    ("España +34 612 34 56 78 móvil", "PHONE", "+34 612 34 56 78"),
    ("India +91 98765 43210 mobile", "PHONE", "+91 98765 43210"),
    ("card 4111 1111 1111 1111 on file", "CARD", "4111 1111 1111 1111"),
    ("card 5500-0000-0000-0004 dashed", "CARD", "5500-0000-0000-0004"),
    ("amex 378282246310005 plain", "CARD", "378282246310005"),
    ("login from 203.0.113.7 yesterday", "IP", "203.0.113.7"),
    ("v6 2001:db8::1 and", "IP", "2001:db8::1"),
    ("link-local fe80::1%eth0 seen", "IP", "fe80::1%eth0"),
    ("see https://pay.example/checkout?session=s3cr3t&u=9 now", "URL_QUERY", "?session=s3cr3t&u=9"),
    ("fragment https://x.example/p#token=abc end", "URL_QUERY", "#token=abc"),
    ("<@U0ANA0001> flagged it", "USER", "<@U0ANA0001>"),
    ("labelled <@W0ABC123|bob> mention", "USER", "<@W0ABC123>"),
    ("host acct_4471 again", "ACCOUNT", "acct_4471"),
    ("account 99812 is the guest", "ACCOUNT", "99812"),
    ("user:42 shows up", "ACCOUNT", "user:42"),
]

LOOK_ALIKES = [
    "booked for 2026-12-04, 3 guests, 120 EUR",
    "order 12345678 was refunded",
    "app version 1.2.3.4.5 crashed at 12:30:45",
    "not a card: 1234 5678 9012 3456",
    "999.1.1.1 is not an address",
    "https://ok.example/path/without/query",
]


@pytest.mark.parametrize(("text", "kind", "value"), CORPUS)
def test_each_kind_is_found_and_restored(text: str, kind: str, value: str) -> None:
    found = redact(text, account_pattern=ACCOUNTS)
    assert value not in found.text, found.text
    assert kind in {s.kind for s in found.spans}
    assert [s.value for s in found.spans if s.kind == kind] == [value]
    assert leaked(found.text, found) == []
    restored = found.restore(found.text)
    # A Slack link shows as the address, a labelled mention as the mention.
    assert restored == text.replace("<mailto:bob@ex.com|bob@ex.com>", "bob@ex.com").replace(
        "<@W0ABC123|bob>", "<@W0ABC123>"
    )


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text, account_pattern=ACCOUNTS).text == text


def test_placeholders_are_stable_across_the_texts_of_one_subject() -> None:
    redactor = Redactor(account_pattern=ACCOUNTS)
    first = redactor.redact("jane@example.com reported acct_1; jane@example.com wrote again")
    second = redactor.redact("acct_2 paid jane@example.com, then acct_1 did")
    assert first.text == "<EMAIL_1> reported <ACCOUNT_1>; <EMAIL_1> wrote again"
    assert second.text == "<ACCOUNT_2> paid <EMAIL_1>, then <ACCOUNT_1> did"
    assert redactor.restore("<ACCOUNT_2> and <EMAIL_1>") == "acct_2 and jane@example.com"
    # A placeholder the model made up is left as it is, never guessed.
    assert redactor.restore("<EMAIL_9>") == "<EMAIL_9>"


def test_known_ids_are_redacted_even_without_a_cue() -> None:
    found = redact("the guest is jdoe77 and paid", known_accounts=["jdoe77"])
    assert found.text == "the guest is <ACCOUNT_1> and paid"


def test_one_text_with_everything_leaves_no_placeholder_free_value() -> None:
    text = " ".join(t for t, _, _ in CORPUS)
    found = redact(text, account_pattern=ACCOUNTS)
    assert leaked(found.text, found) == []
    assert len(PLACEHOLDER.findall(found.text)) >= len(CORPUS)
    assert found.restore(found.text).count("4111 1111 1111 1111") == 1


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")

"""Personal data in ``decision_facts``: found, named by span, and removed.

The Transparency Database is public, so a statement's facts must not carry an email address,
a phone number, a payment card, an IP address or an account id. ``find_personal_data`` is the
one function the rest of Vigil calls (``redact`` is built on it), so a shared redaction
service can replace it later without touching its callers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A run of digits with the separators people type, long enough to be a phone or a card.
NUMBER = re.compile(r"(?<![\w.])\+?\d[\d ().-]{6,}\d(?![\w.])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Ids as platforms print them: acct_123, user-9f2c, uid:42.
ACCOUNT = re.compile(
    r"\b(?:acct|account|user|uid|usr|member|host|guest)[_:-][A-Za-z0-9_.-]+\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Span:
    kind: str  # email, phone, card, ip, account
    start: int
    end: int
    text: str

    def describe(self) -> str:
        return f"{self.kind} at {self.start}-{self.end} ({self.text!r})"


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _numbers(text: str) -> Iterable[Span]:
    for match in NUMBER.finditer(text):
        raw = match.group()
        digits = re.sub(r"\D", "", raw)
        if 13 <= len(digits) <= 19 and luhn(digits):
            yield Span("card", match.start(), match.end(), raw)
        elif (
            7 <= len(digits) <= 15 and not IPV4.fullmatch(raw) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw)
        ):
            yield Span("phone", match.start(), match.end(), raw)


def _ips(text: str) -> Iterable[Span]:
    for pattern in (IPV4, IPV6):
        for match in pattern.finditer(text):
            try:
                ipaddress.ip_address(match.group())
            except ValueError:
                continue
            yield Span("ip", match.start(), match.end(), match.group())


def find_personal_data(text: str, known_ids: Iterable[str] = ()) -> list[Span]:
    """Every span of personal data in ``text``, in order, overlaps merged to the first found.

    ``known_ids`` are account ids the caller knows are in play (the request's accounts): any
    of them is personal data wherever it appears, whatever it looks like.
    """
    spans: list[Span] = [Span("email", m.start(), m.end(), m.group()) for m in EMAIL.finditer(text)]
    spans += list(_ips(text))
    spans += list(_numbers(text))
    spans += [Span("account", m.start(), m.end(), m.group()) for m in ACCOUNT.finditer(text)]
    for known in {k for k in known_ids if k}:
        spans += [
            Span("account", m.start(), m.end(), m.group())
            for m in re.finditer(rf"(?<![\w]){re.escape(known)}(?![\w])", text)
        ]
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def redact(text: str, known_ids: Iterable[str] = ()) -> str:
    """``text`` with each span of personal data replaced by ``[kind removed]``."""
    out, last = [], 0
    for span in find_personal_data(text, known_ids):
        out += [text[last : span.start], f"[{span.kind} removed]"]
        last = span.end
    out.append(text[last:])
    return "".join(out)

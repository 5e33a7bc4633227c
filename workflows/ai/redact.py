"""Nothing personal leaves: text is redacted before any of it is sent to a language model.

Each kind of personal data is found by a tested pattern and replaced by a stable placeholder
(``<EMAIL_1>``, ``<ACCOUNT_2>``): the same value gets the same placeholder everywhere in one
``Redactor``, so the model can still tell "the same account twice" from "two accounts", and
``restore`` puts the values back in what Slack shows.

Why these patterns and not presidio-analyzer: presidio's recognizers for these kinds are
themselves regular expressions plus a Luhn check and libphonenumber, but the analyzer pulls
in spaCy and a downloaded language model at start. We keep presidio's approach (regex +
checksum, `phonenumbers` for phone numbers in international formats) without the model.
Order matters: Slack markup first (a ``<mailto:…|…>`` link holds an email twice), then URLs
(their query strings), emails, cards, IPs, account ids, and phone numbers last, so the digits
of a card or an IP are never read as a phone number.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers

from workflows.cases.intake import find_accounts

PLACEHOLDER = re.compile(r"<(EMAIL|PHONE|CARD|IP|URL_QUERY|USER|ACCOUNT)_(\d+)>")

_MAILTO = re.compile(r"<mailto:([^|>\s]+)(?:\|[^>]*)?>", re.IGNORECASE)
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
_URL = re.compile(r"\bhttps?://[^\s<>|]+", re.IGNORECASE)
# \w, not [A-Za-z0-9]: internationalised addresses (maría@correo.es) are personal data too.
_EMAIL = re.compile(r"(?<![\w.+-])\w[\w.%+-]*@\w(?:[\w-]*\w)?(?:\.\w(?:[\w-]*\w)?)*\.[^\W\d_]{2,}\b")
# 13-19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5, …).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# A word as ids are written (up to spaces, Slack markup and list punctuation).
_TOKEN = re.compile(r"[^\s<>|,;()\"'\[\]{}]+")
_SEVEN_DIGITS = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")  # a time of day, not an id like user:42
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![\w:])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class Span:
    """One value replaced: where it was in the original text, its kind and its placeholder."""

    start: int
    end: int
    kind: str
    value: str
    placeholder: str


@dataclass
class Redacted:
    """A redacted text: ``text`` is what may leave; ``restore`` puts the values back."""

    text: str
    spans: list[Span]
    mapping: dict[str, str]

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), text)


@dataclass
class Redactor:
    """Redacts several texts with one set of placeholders (a case's message and its notes)."""

    account_pattern: re.Pattern[str] | None = None
    known_accounts: Iterable[str] = ()
    # Numbers written without +country are read in each of these regions (national formats).
    regions: tuple[str, ...] = ("US", "GB", "FR", "DE")
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            holder = f"<{kind}_{self._counts[kind]}>"
            self._by_value[key] = holder
            self.mapping[holder] = value
        return self._by_value[key]

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), text)

    def redact(self, text: str) -> Redacted:
        spans: list[Span] = []
        # Each kind is one pass over the text as the passes before left it; a span's offsets
        # are in that text (what a reader needs is the kind, the value and its placeholder).
        working = _Text(text)
        working.replace(_MAILTO, lambda m: self._one("EMAIL", m.group(1), spans, m))
        working.replace(_MENTION, lambda m: self._one("USER", f"<@{m.group(1)}>", spans, m))
        working.replace(_URL, lambda m: self._url(m, spans))
        working.replace(_EMAIL, lambda m: self._one("EMAIL", m.group(0), spans, m))
        working.replace(_CARD, lambda m: self._card(m, spans))
        working.replace(_IPV4, lambda m: self._ip(m, spans))
        working.replace(_IPV6, lambda m: self._ip(m, spans))
        ids = self._account_ids(text)
        if ids:
            self._accounts(working, spans, ids)
        self._phones(working, spans)
        return Redacted(working.text, spans, dict(self.mapping))

    # kinds ----------------------------------------
    def _one(self, kind: str, value: str, spans: list[Span], match: re.Match[str]) -> str:
        holder = self.placeholder(kind, value)
        spans.append(Span(match.start(), match.end(), kind, value, holder))
        return holder

    def _url(self, match: re.Match[str], spans: list[Span]) -> str | None:
        url = match.group(0)
        cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
        if cut < 0:
            return None
        holder = self.placeholder("URL_QUERY", url[cut:])
        spans.append(Span(match.start() + cut, match.end(), "URL_QUERY", url[cut:], holder))
        return url[:cut] + holder

    def _card(self, match: re.Match[str], spans: list[Span]) -> str | None:
        digits = re.sub(r"[ -]", "", match.group(0))
        if not (13 <= len(digits) <= 19) or not luhn_ok(digits) or len(set(digits)) == 1:
            return None
        return self._one("CARD", match.group(0), spans, match)

    def _ip(self, match: re.Match[str], spans: list[Span]) -> str | None:
        value = match.group(0)
        try:
            ipaddress.ip_address(value.split("%")[0])
        except ValueError:
            return None
        return self._one("IP", value, spans, match)

    def _account_ids(self, original: str) -> set[str]:
        # The configured pattern matches almost any word, so ids are found the way cases find
        # them (shaped like acct_123 / user:42, or after a cue word: "account 1234"), plus the
        # ids Vigil already knows for this subject; each is then replaced wherever it appears.
        ids = {a for a in self.known_accounts if a}
        if self.account_pattern is not None:
            ids |= {a for a in find_accounts(original, self.account_pattern) if not _TIME.fullmatch(a)}
        return ids

    def _accounts(self, working: _Text, spans: list[Span], ids: set[str]) -> None:
        def one(match: re.Match[str]) -> str | None:
            token = match.group(0)
            core = token.rstrip(".:-!?")
            if core not in ids:
                return None
            holder = self.placeholder("ACCOUNT", core)
            spans.append(Span(match.start(), match.start() + len(core), "ACCOUNT", core, holder))
            return holder + token[len(core) :]

        working.replace(_TOKEN, one)

    def _phones(self, working: _Text, spans: list[Span]) -> None:
        for region in self.regions:
            # libphonenumber's matcher is the slow part: skip it once no digits are left that
            # could make a number (the first region takes every +country number).
            if not _SEVEN_DIGITS.search(working.text):
                return
            self._phones_in(working, spans, region)

    def _phones_in(self, working: _Text, spans: list[Span], region: str) -> None:
        text = working.text
        pieces: list[str] = []
        last = 0
        for found in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            raw = found.raw_string
            if PLACEHOLDER.search(raw):
                continue
            pieces.append(text[last : found.start])
            holder = self.placeholder("PHONE", raw)
            spans.append(Span(found.start, found.end, "PHONE", raw, holder))
            pieces.append(holder)
            last = found.end
        pieces.append(text[last:])
        working.text = "".join(pieces)


class _Text:
    """A text rewritten pass by pass; a replacer returning None keeps the match as it is."""

    def __init__(self, text: str) -> None:
        self.text = text

    def replace(self, pattern: re.Pattern[str], replacer: Callable[[re.Match[str]], str | None]) -> None:
        def one(match: re.Match[str]) -> str:
            if PLACEHOLDER.fullmatch(match.group(0)):
                return match.group(0)
            result = replacer(match)
            return match.group(0) if result is None else result

        self.text = pattern.sub(one, self.text)


def redact(
    text: str,
    *,
    account_pattern: re.Pattern[str] | None = None,
    known_accounts: Iterable[str] = (),
) -> Redacted:
    """The public entry point (#17 reuses it): ``redact(text).text`` may leave Vigil,
    ``.restore(s)`` puts the values back, ``.spans`` says what was found."""
    return Redactor(account_pattern=account_pattern, known_accounts=known_accounts).redact(text)


def leaked(text: str, redacted: Redacted) -> list[str]:
    """Values of ``redacted`` still present in ``text`` (what a test asserts is empty)."""
    return [span.value for span in redacted.spans if span.value in text]

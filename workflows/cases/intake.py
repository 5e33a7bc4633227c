"""Turning outside input into checked case input: the message as the adapter saw it, the
analyst's overrides from the shortcut, case references and the accounts a text mentions.

Pure: nothing here reads the store or the clock.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from store.cases import CASE_PREFIX


class IncomingMessage(BaseModel):
    """A Slack message, as the adapter saw it: the text is kept exactly as written."""

    channel: str
    ts: str
    user: str | None = None
    is_bot: bool = False
    text: str = ""


class CaseOverrides(BaseModel):
    category: (
        Literal[
            "suspension_request",
            "reinstatement_request",
            "cx_escalation",
            "host_report",
            "user_report",
            "abuse_inquiry",
            "other",
            "appeal",
        ]
        | None
    ) = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None


def parse_case_ref(ref: str) -> int | None:
    """The case id a person typed: ``CASE-12``, ``case-12`` or ``12``; None for anything else."""
    text = ref.strip().upper()
    if text.startswith(CASE_PREFIX):
        text = text[len(CASE_PREFIX) :]
    return int(text) if text.isdigit() else None


_SLACK_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_CUE = re.compile(r"(?:account|acct|user|host|guest|id|profile)s?\s*(?:id)?\s*[:#]?\s*$", re.I)


def find_accounts(text: str, pattern: re.Pattern[str], limit: int = 50) -> list[str]:
    """Account ids mentioned in free text.

    The configured pattern matches almost any word, so a token counts only when it has a
    digit and either looks like an id (``acct_123``, ``user:42``) or follows a cue word
    ("account 1234"). Slack mentions and bare links are skipped; a link's label is read.
    """
    plain = _SLACK_LINK.sub(lambda m: f" {m.group(2)} " if m.group(2) else " ", text)
    found: list[str] = []
    for match in _TOKEN.finditer(plain):
        token = match.group(0).rstrip(".:-")
        if not token or token in found or not any(ch.isdigit() for ch in token):
            continue
        if not pattern.fullmatch(token):
            continue
        shaped = "_" in token or ":" in token
        cued = bool(_CUE.search(plain[max(0, match.start() - 24) : match.start()]))
        if shaped or cued:
            found.append(token)
            if len(found) >= limit:
                break
    return found

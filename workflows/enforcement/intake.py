"""What people ask for, read and checked before anything is written: account ids typed or
uploaded, the request's draft, and every problem a person can fix, keyed by the field it is
about. Pure: no database, no clock.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from workflows.config import EnforcementSettings

Action = Literal["suspend", "reinstate"]
ACTIONS: tuple[Action, ...] = ("suspend", "reinstate")
TARGET_STATE = {"suspend": "suspended", "reinstate": "active"}
REINSTATE_CHECKS = {
    "appeal_reviewed": "Appeal reviewed",
    "evidence_rechecked": "Original evidence re-checked",
}
_CASE_REF = re.compile(r"\bCASE-(\d+)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]+")
_HEADER_NAMES = {"account", "account_id", "accountid", "id", "account id", "user_id", "ids"}


def request_ref(request_id: int) -> str:
    return f"REQ-{request_id}"


def parse_ref(text: str) -> int | None:
    """``REQ-12``, ``req-12`` or ``12`` → 12; anything else None."""
    match = re.fullmatch(r"(?:REQ-)?(\d+)", text.strip(), re.IGNORECASE)
    return int(match.group(1)) if match else None


def idempotency_key(request_id: int, account_id: str, action: str) -> str:
    """DESIGN.md contract: the same on every retry and after a restart."""
    return f"vigil:{request_ref(request_id)}:{account_id}:{action}"


# --- reading account lists ---------------------------------------------------------------
def split_ids(text: str) -> list[str]:
    """Ids separated by spaces, commas, semicolons or newlines."""
    return [part for part in _SEPARATORS.split(text or "") if part]


def read_id_file(data: bytes) -> list[str]:
    """A CSV or plain-text list: BOM, a header row, blank lines and extra columns tolerated.

    With a header that names an account column (account_id, id, …) that column is used;
    otherwise the first column of every row.
    """
    text = data.decode("utf-8-sig", errors="replace")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    column = 0
    header = [cell.strip().lower() for cell in rows[0]]
    if any(name in _HEADER_NAMES for name in header):
        column = next(i for i, name in enumerate(header) if name in _HEADER_NAMES)
        rows = rows[1:]
    ids: list[str] = []
    for row in rows:
        if len(row) == 1:
            ids.extend(split_ids(row[0]))  # a text file with several ids on a line
        elif column < len(row) and row[column].strip():
            ids.append(row[column].strip())
    return ids


@dataclass(frozen=True)
class AccountCheck:
    accounts: list[str]  # deduplicated, in first-seen order
    duplicates: list[str]
    malformed: list[str]
    too_many: bool


def check_accounts(ids: Iterable[str], config: EnforcementSettings) -> AccountCheck:
    pattern = config.account_id_regex()
    seen: dict[str, None] = {}
    duplicates: list[str] = []
    malformed: list[str] = []
    for raw in ids:
        account = raw.strip()
        if not account:
            continue
        if not pattern.match(account):
            malformed.append(account)
        elif account in seen:
            duplicates.append(account)
        else:
            seen[account] = None
    accounts = list(seen)
    return AccountCheck(accounts, duplicates, malformed, len(accounts) > config.bulk_max)


def find_case_ref(*texts: str) -> str | None:
    """The first ``CASE-n`` any of the texts names, normalised (``case-007`` → ``CASE-7``)."""
    for text in texts:
        match = _CASE_REF.search(text or "")
        if match:
            return f"CASE-{int(match.group(1))}"
    return None


# --- the request, before it is written ----------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    """What someone asks for, before it is checked. Field names match the modal's blocks."""

    action: Action
    requester: str
    accounts_text: str = ""
    file_ids: list[str] = field(default_factory=list)
    reason_code: str | None = None
    evidence: str = ""
    note: str = ""
    checklist: list[str] = field(default_factory=list)  # ticked REINSTATE_CHECKS
    root_cause: str = ""
    source: str = "slack"
    origin_channel: str | None = None
    cli_user: str | None = None  # the OS user who ran `vigil enforcement request` (audited)
    decision_facts: str | None = None  # the statement of reasons' facts, as the requester edited them


@dataclass(frozen=True)
class Checked:
    draft: Draft
    accounts: list[str]
    duplicates: list[str]
    errors: dict[str, str]  # field → message, for inline errors

    @property
    def ok(self) -> bool:
        return not self.errors


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def check_draft(draft: Draft, config: EnforcementSettings) -> Checked:
    """Every problem a person can fix, keyed by the field it is about (plain text: a modal's
    inline errors and the CLI show it as it is)."""
    errors: dict[str, str] = {}
    text_check = check_accounts(split_ids(draft.accounts_text), config)
    file_check = check_accounts(draft.file_ids, config)
    combined = check_accounts([*split_ids(draft.accounts_text), *draft.file_ids], config)
    if text_check.malformed:
        errors["accounts"] = (
            f"{len(text_check.malformed)} id(s) are not account ids: {_names(text_check.malformed)}"
        )
    if file_check.malformed:
        errors["file"] = (
            f"{len(file_check.malformed)} id(s) in the file are not account ids: "
            f"{_names(file_check.malformed)}"
        )
    if not combined.accounts and not combined.malformed:
        errors["accounts"] = "Give at least one account id here, or upload a file."
    elif combined.too_many:
        where = "file" if draft.file_ids else "accounts"
        errors[where] = (
            f"{len(combined.accounts):,} accounts: at most {config.bulk_max:,} in one request. "
            "Split the list."
        )
    if not draft.reason_code:
        errors["reason"] = "Pick a reason."
    elif draft.reason_code not in config.reason_codes:
        errors["reason"] = f"Unknown reason {draft.reason_code!r}; pick one of the list."
    if draft.action == "reinstate":
        missing = [label for key, label in REINSTATE_CHECKS.items() if key not in draft.checklist]
        if missing:
            errors["checklist"] = "Before a reinstatement: " + "; ".join(missing) + "."
        if not draft.root_cause.strip():
            errors["root_cause"] = "Say what went wrong the first time (the root cause)."
    return Checked(draft, combined.accounts, combined.duplicates, errors)

"""Why an enforcement step was refused: a code and the fields it is about, never Slack text.

The words people read are the adapters' (commands/blocks/enforcement/refusals.py
``refusal_text``: mentions and code spans for Slack, ``plain=True`` for the CLI).
``str(refused)`` is the code and its fields, for logs. A refusal changes nothing: the unit
of work that raised it rolls back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from workflows.enforcement.views import OpenAction

Code = Literal[
    "not_found",  # no such request
    "own_request",  # four-eyes: the requester never decides or records their own request
    "not_engineer",  # only roles.engineers (or admins) record manual execution
    "nothing_manual",  # nothing of the request awaits manual execution
    "reason_required",  # a rejection says why
    "already_decided",  # pending but approved by this person already, expired, or decided
    "approved_twice",  # a concurrent double click: the other click's approval counted
    "expired",  # older than enforcement.request_ttl (Expired)
    "already_open",  # accounts with an open request for the same action (OpenRequestConflict)
]
# Which step a four-eyes refusal stopped: the sentence names what someone else must do.
Step = Literal["approve", "decide", "record"]


class Refused(Exception):
    """A step that cannot be taken; nothing changed. ``code`` says why (see ``Code``)."""

    def __init__(
        self,
        code: Code,
        *,
        request_ref: str | None = None,
        step: Step | None = None,
        status: str | None = None,
        decided_by: str | None = None,
        ttl: timedelta | None = None,
    ) -> None:
        self.code: Code = code
        self.request_ref = request_ref
        self.step = step
        self.status = status  # the request's, for already_decided
        self.decided_by = decided_by  # a Slack user id, for already_decided
        self.ttl = ttl  # enforcement.request_ttl, for expired
        super().__init__(code)

    def __str__(self) -> str:
        fields = {
            "request": self.request_ref,
            "step": self.step,
            "status": self.status,
            "decided_by": self.decided_by,
            "ttl": self.ttl,
        }
        shown = ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return f"{self.code} ({shown})" if shown else self.code


class Expired(Refused):
    """The request waited longer than ``enforcement.request_ttl``: nobody may approve it now."""

    def __init__(self, request_ref: str, ttl: timedelta) -> None:
        super().__init__("expired", request_ref=request_ref, ttl=ttl)


class OpenRequestConflict(Refused):
    """Accounts that already have an open request for the same action: refused, naming them."""

    def __init__(self, action: str, conflicts: list[OpenAction]) -> None:
        self.action = action
        self.conflicts = conflicts
        super().__init__("already_open")

    @property
    def requests(self) -> list[OpenAction]:
        """One entry per open request named, in the order they were asked."""
        seen: dict[int, OpenAction] = {}
        for conflict in self.conflicts:
            seen.setdefault(conflict.request_id, conflict)
        return list(seen.values())

    def __str__(self) -> str:
        shown = ", ".join(f"{c.account_id} ({c.ref})" for c in self.conflicts[:5])
        more = f" and {len(self.conflicts) - 5} more" if len(self.conflicts) > 5 else ""
        return f"already_open ({self.action}: {shown}{more})"

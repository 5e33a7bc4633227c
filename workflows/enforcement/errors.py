"""Why an enforcement step was refused: a code and the fields it is about, never Slack text.

commands/blocks/enforcement.py renders a refusal for Slack (``refusal_text``, with mentions
and code spans). ``str(refused)`` is the same sentence in plain words (``plain_text``): what
the CLI prints (``vigil enforcement request`` shows an ``already_open`` refusal) and the logs
show. A refusal changes nothing: the unit of work that raised it rolls back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from store.enforcement import EXPIRED, PENDING_APPROVAL, REJECTED
from workflows.config import format_duration
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
        return plain_text(self)


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


def plain_text(refused: Refused) -> str:
    """The refusal in plain words (no mrkdwn): the CLI's and the logs' rendering of its code."""
    ref, code = refused.request_ref, refused.code
    if isinstance(refused, OpenRequestConflict):
        return _conflict_text(refused)
    if code == "not_found":
        return f"{ref} does not exist."
    if code == "own_request":
        if refused.step == "approve":
            return f"You asked for {ref}, so someone else must approve it (four-eyes)."
        if refused.step == "record":
            return f"You asked for {ref}, so someone else records that it was executed."
        return f"You asked for {ref}; another approver decides it (four-eyes)."
    if code == "not_engineer":
        return (
            "Only Vigil engineers (roles.engineers) or admins record manual execution. "
            "Ask a T&S admin to add you to roles.engineers in Vigil's config."
        )
    if code == "nothing_manual":
        return f"{ref} has nothing awaiting manual execution. Nothing changed."
    if code == "reason_required":
        return "Say why you reject it."
    if code == "approved_twice":
        return f"You already approved {ref}."
    if code == "expired":
        ttl = format_duration(refused.ttl) if refused.ttl is not None else "its time"
        return (
            f"{ref} expired: nobody approved it within {ttl} (enforcement.request_ttl). "
            "Nothing was executed; ask again if it is still needed."
        )
    # already_decided
    if refused.status == PENDING_APPROVAL:
        return (
            f"You already approved {ref}; it needs another approver "
            "(someone other than you and the requester) or an admin."
        )
    if refused.status == EXPIRED:
        return f"{ref} expired: nobody approved it in time. Nothing was executed or changed."
    by = f" by {refused.decided_by}" if refused.decided_by else ""
    word = "rejected" if refused.status == REJECTED else "approved"
    return f"{ref} was already {word}{by}. Nothing changed."


def _conflict_text(conflict: OpenRequestConflict) -> str:
    if len(conflict.conflicts) == 1:
        only = conflict.conflicts[0]
        return (
            f"{only.account_id} already has an open {conflict.action} request: {only.ref}, "
            f"{only.state}. Nothing was created; follow that request instead of asking again."
        )
    shown = ", ".join(f"{c.account_id} ({c.ref})" for c in conflict.conflicts[:5])
    more = f" and {len(conflict.conflicts) - 5:,} more" if len(conflict.conflicts) > 5 else ""
    requests = conflict.requests
    listed = "; ".join(f"{r.ref}, {r.state}" for r in requests[:3])
    if len(requests) > 3:
        listed += f"; and {len(requests) - 3} more request(s)"
    return (
        f"{len(conflict.conflicts):,} accounts already have an open {conflict.action} request: "
        f"{shown}{more}. Open: {listed}. Nothing was created; remove those accounts and submit again."
    )

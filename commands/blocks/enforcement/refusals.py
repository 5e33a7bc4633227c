"""Refusals and conflicts, worded from their codes and fields: the one place their words live
(the workflow writes no prose; the CLI prints the same sentences with ``plain=True``)."""

from __future__ import annotations

from commands.blocks.common import (
    mention,
)
from store.enforcement import (
    EXPIRED,
    PENDING_APPROVAL,
    REJECTED,
)
from workflows.config import format_duration
from workflows.enforcement import (
    OpenRequestConflict,
    Refused,
    request_ref,
)


# --- refusals ------------------------------------------------------------------------------------------
def refusal_text(refused: Refused, *, plain: bool = False) -> str:
    """What the person who tried is told, from the refusal's code and fields: for Slack (an
    ephemeral, with mentions and code spans), or ``plain`` for the command line."""
    ref, code = refused.request_ref, refused.code
    if isinstance(refused, OpenRequestConflict):
        return conflict_text(refused)
    if code == "not_found":
        return f"{ref} does not exist."
    if code == "own_request":
        if refused.step == "approve":
            return f"You asked for {ref}, so someone else must approve it (four-eyes)."
        if refused.step == "record":
            return f"You asked for {ref}, so someone else records that it was executed."
        return f"You asked for {ref}; another approver decides it (four-eyes)."
    if code == "not_engineer":
        key = "roles.engineers" if plain else "`roles.engineers`"
        return (
            f"Only Vigil engineers ({key}) or admins record manual execution. "
            f"Ask a T&S admin to add you to {key} in Vigil's config."
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
    # already_decided: pending means this person approved it already
    if refused.status == PENDING_APPROVAL:
        return (
            f"You already approved {ref}; it needs another approver "
            "(someone other than you and the requester) or an admin."
        )
    if refused.status == EXPIRED:
        return f"{ref} expired: nobody approved it in time. Nothing was executed or changed."
    who = refused.decided_by if plain else mention(refused.decided_by)
    by = f" by {who}" if refused.decided_by else ""
    word = "rejected" if refused.status == REJECTED else "approved"
    return f"{ref} was already {word}{by}. Nothing changed."


def conflict_text(conflict: OpenRequestConflict, links: dict[int, str] | None = None) -> str:
    """Accounts already asked for, and the open requests they are in. Plain text (the modal's
    inline errors are plain): ``links`` (request id → permalink) makes each request findable."""
    links = links or {}

    def named(rid: int) -> str:
        link = links.get(rid)
        return f"{request_ref(rid)} ({link})" if link else request_ref(rid)

    if len(conflict.conflicts) == 1:
        only = conflict.conflicts[0]
        return (
            f"{only.account_id} already has an open {conflict.action} request: {named(only.request_id)}, "
            f"{only.state}. Nothing was created; follow that request instead of asking again."
        )
    shown = ", ".join(f"{c.account_id} ({c.ref})" for c in conflict.conflicts[:5])
    more = f" and {len(conflict.conflicts) - 5:,} more" if len(conflict.conflicts) > 5 else ""
    requests = conflict.requests
    listed = "; ".join(f"{named(r.request_id)}, {r.state}" for r in requests[:3])
    if len(requests) > 3:
        listed += f"; and {len(requests) - 3} more request(s)"
    return (
        f"{len(conflict.conflicts):,} accounts already have an open {conflict.action} request: "
        f"{shown}{more}. Open: {listed}. Nothing was created; remove those accounts and submit again."
    )

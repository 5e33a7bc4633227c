"""What decisions need from outside: the DSA Transparency Database (bot/gateways/dsa.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Result = Literal["submitted", "duplicate", "invalid", "transient"]


@dataclass(frozen=True)
class Submitted:
    puid: str
    result: Result
    dsa_id: str | None = None
    # For invalid: "field: message" as the database named it; for transient: what went wrong.
    detail: str = ""


class TransparencyDatabase(Protocol):
    """``POST /api/v1/statements``: at most ``BATCH`` statements a call; one outcome per puid.

    ``duplicate`` is the database saying the puid is already used by this platform: the
    statement is there, so it counts as submitted (DESIGN.md, "Decisions for the current batch").
    """

    def submit(self, statements: list[dict[str, Any]]) -> list[Submitted]: ...


BATCH = 100


class AppealNotifier(Protocol):
    """Vigil's words about appeals, in Slack: the appeal message people decide it from (its
    case card goes in its thread), and the decision once made."""

    def post_appeal(self, channel: str, appeal: Any) -> Any:
        """Post the appeal (an AppealView); return its workflows.ports.MessageRef."""
        ...

    def appeal_decided(self, appeal: Any) -> None: ...


class AppealOutcomes(Protocol):
    """The platform's ``POST /appeals/{id}/outcome``, for appeals and for notices (a reporter
    told what became of their report, Art. 16(5)); raises when it should be retried
    (``PermanentJobError`` when retrying cannot help)."""

    def appeal_outcome(self, appeal_id: str, outcome: str, reason: str) -> None: ...

    def notice_outcome(self, report_id: str, body: dict[str, Any]) -> None:
        """``report_id`` is the report's id as the platform sent it (the signal's ``id``)."""
        ...

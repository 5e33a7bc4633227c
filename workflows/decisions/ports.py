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

"""The bodies of Vigil's own HTTP API as pydantic models: what bot/http.py sends is validated
through them, and docs/openapi.json is generated from them (bot/openapi.py), so the document
cannot promise a shape the server does not send.

The signal rows themselves are checked by ``workflows.signals.RowValidator`` (hand-written for
speed, 10,000 rows a request, with the error texts the README documents); ``Signal`` below
states the same rules for clients, and tests/foundation/test_openapi.py keeps the two in step
(fields and limits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.signals.intake import MAX_BATCH, MAX_ID, MAX_REPORTED_ROWS


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Body):
    """Every refusal: a 4xx (or a 500) with one line saying why."""

    ok: Literal[False] = False
    error: str = Field(description="What was wrong, in one line.", examples=["missing or wrong bearer token"])


class Health(_Body):
    status: Literal["ok", "unhealthy"] = Field(description="`ok` when Vigil can serve.")
    database: Literal["ok", "unreachable"] = Field(description="Whether the database answered a ping.")


class Signal(_Body):
    """One abuse signal. Any other field refuses the batch."""

    id: Annotated[str, Field(min_length=1, max_length=MAX_ID)] | int | None = Field(
        default=None,
        description="Optional client id, unique: a signal whose id is already stored is skipped and "
        "counted as a duplicate, so a retried batch is harmless.",
        examples=["evt-8812"],
    )
    type: str = Field(
        description="One of `signals.types` in vigil.yaml (default: report, model_score, "
        "undeliverable, send_velocity, login, payment_decline).",
        examples=["send_velocity"],
    )
    account_id: str = Field(
        description="An account id matching `enforcement.account_id_pattern`.", examples=["acct_4471"]
    )
    occurred_at: datetime | float = Field(
        description="ISO 8601 with a timezone (`Z` or an offset) or epoch seconds; not before 2000, "
        "not more than an hour ahead.",
        examples=["2026-11-23T09:58:12Z"],
    )
    value: float | None = Field(default=None, description="A score or a count; summed in velocity features.")
    attributes: dict[str, Any] | None = Field(
        default=None,
        description="At most `signals.max_attribute_bytes` (8,192) bytes as compact JSON. "
        "For `type: report`: `reporter` (≤ 128 chars), `reason` (≤ 64), `text` (≤ 10,000).",
        examples=[{"country": "NG", "device_id": "dev_77"}],
    )


class SignalBatch(_Body):
    signals: list[Signal] = Field(max_length=MAX_BATCH, description="Stored whole or not at all.")


class Ingested(_Body):
    ok: Literal[True] = True
    accepted: int = Field(ge=0, description="Signals stored.")
    duplicates: int = Field(ge=0, description="Signals skipped because their id was already stored.")
    reports: int = Field(ge=0, description="Of the accepted, how many were reports.")


class BadRow(_Body):
    index: int = Field(ge=0, description="0-based position in the batch.")
    errors: list[str] = Field(description="Each problem, naming the field.")


class Rejected(_Body):
    """A batch refused whole: nothing was stored."""

    ok: Literal[False] = False
    error: str = Field(description="Why, in one line.")
    bad_rows: int | None = Field(default=None, ge=1, description="422 only: how many rows are invalid.")
    rows: list[BadRow] | None = Field(
        default=None, max_length=MAX_REPORTED_ROWS, description="422 only: the first 100 invalid rows."
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

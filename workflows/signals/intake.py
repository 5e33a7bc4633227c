"""Turning a client's batch into rows Vigil can store: decode the body, check every row, and
refuse the batch whole (with the HTTP status that says why) when any row is bad."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows import json_input
from workflows.config import VigilConfig

MAX_BATCH = 10_000
MAX_BODY_BYTES = 64 * 1024 * 1024  # 10,000 rows with generous attributes; more is a client bug
MAX_REPORTED_ROWS = 100  # a 422 lists this many bad rows, and says how many there were
MAX_ID = 128
MAX_REPORT_TEXT = 10_000
FUTURE_SLACK = timedelta(hours=1)  # clients' clocks drift; the future does not send signals
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FIELDS = frozenset({"id", "type", "account_id", "occurred_at", "value", "attributes"})
REPORT_FIELDS = {"reporter": 128, "reason": 64, "text": MAX_REPORT_TEXT}


@dataclass(frozen=True)
class Unreadable:
    """A line of a file that is not a signal at all (the import reports it by line)."""

    reason: str


@dataclass(frozen=True)
class RowError:
    index: int  # 0-based position in the batch (the CLI adds its line number)
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": self.errors}


class BatchRejected(Exception):
    """The batch is refused whole; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, reason: str, rows: list[RowError] | None = None, bad_rows: int = 0):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.rows = rows or []
        self.bad_rows = bad_rows or len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.reason}
        if self.rows:
            body["bad_rows"] = self.bad_rows
            body["rows"] = [row.to_dict() for row in self.rows[:MAX_REPORTED_ROWS]]
        return body


def parse_time(value: Any) -> datetime:
    """ISO 8601 with a zone (``Z`` or an offset), or epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("must be an ISO 8601 time with a timezone, or epoch seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of epoch seconds")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("epoch seconds out of range") from None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time with a timezone, or epoch seconds")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value[:40]!r} has no timezone (add Z or an offset like +00:00)")
    return parsed.astimezone(UTC)


class RowValidator:
    """Turns one client row into insertable values, or a list of what is wrong with it.

    Hand-written rather than a pydantic model: it runs 10,000 times per request, and the
    error texts name the field the way the README documents it.
    """

    def __init__(self, config: VigilConfig, now: datetime) -> None:
        signals = config.signals
        self.types = frozenset(signals.types)
        self.type_list = ", ".join(signals.types)
        self.account = config.enforcement.account_id_regex()
        self.max_attributes = signals.max_attribute_bytes
        self.latest = now + FUTURE_SLACK
        self.now = now

    def __call__(self, item: Any) -> dict[str, Any] | list[str]:
        if isinstance(item, Unreadable):
            return [item.reason]
        if not isinstance(item, dict):
            return ["a signal must be a JSON object"]
        errors: list[str] = []
        unknown = item.keys() - FIELDS
        if unknown:
            errors.append(f"unknown field(s): {', '.join(sorted(str(k) for k in unknown)[:5])}")
        kind = item.get("type")
        if not isinstance(kind, str) or kind not in self.types:
            shown = kind[:40] if isinstance(kind, str) else kind
            errors.append(f"type: unknown signal type {shown!r} (one of {self.type_list})")
        account = item.get("account_id")
        if not isinstance(account, str) or not self.account.fullmatch(account):
            errors.append("account_id: missing or not an account id")
        occurred = item.get("occurred_at")
        when: datetime | None = None
        if occurred is None:
            errors.append("occurred_at: required")
        else:
            try:
                when = parse_time(occurred)
            except ValueError as exc:
                errors.append(f"occurred_at: {exc}")
            else:
                if when > self.latest:
                    errors.append("occurred_at: in the future")
                elif when < EARLIEST:
                    errors.append("occurred_at: before 2000")
        value = item.get("value")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            errors.append("value: must be a number")
        client_id = item.get("id")
        if client_id is not None:
            if isinstance(client_id, int) and not isinstance(client_id, bool):
                client_id = str(client_id)
            if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_ID:
                errors.append(f"id: must be a string of 1 to {MAX_ID} characters")
        attributes = item.get("attributes")
        encoded = None
        if attributes is not None:
            if not isinstance(attributes, dict):
                errors.append("attributes: must be an object")
            else:
                encoded = json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)
                size = len(encoded.encode())
                if size > self.max_attributes:
                    errors.append(f"attributes: {size} bytes, over the {self.max_attributes}-byte limit")
                if kind == "report":
                    for name, limit in REPORT_FIELDS.items():
                        got = attributes.get(name)
                        if got is not None and (not isinstance(got, str) or len(got) > limit):
                            errors.append(f"attributes.{name}: must be text of at most {limit} characters")
        if errors:
            return errors
        return {
            "client_id": client_id,
            "type": kind,
            "account_id": account,
            "occurred_at": when,
            "value": float(value) if value is not None else None,
            "attributes": attributes or None,
            "attributes_json": encoded if attributes else None,
            "received_at": self.now,
        }


def validate_batch(items: list[Any], validator: RowValidator) -> list[dict[str, Any]]:
    """All rows, or BatchRejected(422) naming every bad one (the first hundred in detail)."""
    rows: list[dict[str, Any]] = []
    bad: list[RowError] = []
    for index, item in enumerate(items):
        result = validator(item)
        if isinstance(result, list):
            bad.append(RowError(index, result))
        else:
            rows.append(result)
    if bad:
        raise BatchRejected(422, f"{len(bad)} of {len(items)} signals are invalid; nothing was stored", bad)
    return rows


def check_size(items: list[Any]) -> None:
    """BatchRejected(413) for more rows than one batch may carry."""
    if len(items) > MAX_BATCH:
        raise BatchRejected(413, f"{len(items)} signals in one batch; the limit is {MAX_BATCH}")


def decode_batch(raw: bytes) -> list[Any]:
    """The request body: ``{"signals": [...]}`` (or a bare array). 400/413 when unusable."""
    try:
        body = json_input.loads(raw)
    except json_input.JsonInputError as exc:
        raise BatchRejected(400, f"body is {exc}") from None
    items = body.get("signals") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise BatchRejected(400, 'body must be {"signals": [...]} (a JSON array of signals)')
    check_size(items)
    return items

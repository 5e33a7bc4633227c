"""The ingest fast path: a whole HTTP body decoded and checked in one pass of pydantic-core.

``RowValidator`` (intake.py) walks every row in Python and words every error the way the
README documents it; it cost more than the database. Here a ``TypeAdapter`` parses the JSON
body straight into checked rows (no ``json.loads`` first), and what pydantic cannot check
(the configured types and account id pattern, the time bounds, the attribute size, the
report fields) is checked in a tight loop after it. The fast path only ever says "all good"
or "not sure": a body it does not accept whole goes to the exact validator, which either
accepts it after all (an epoch time, an integer id) or refuses it with the documented
errors. The fast path is built to accept a subset of what the validator accepts and to
produce the same rows (tests/signals/test_ingest_path.py holds it to that).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import (
    Annotated,
    Any,
    NotRequired,  # pydantic needs this one before 3.12
)

import orjson
from pydantic import AwareDatetime, ConfigDict, Field, StrictFloat, StrictInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from workflows import json_input
from workflows.signals.intake import EARLIEST, MAX_BATCH, MAX_ID, REPORT_FIELDS, RowValidator


class _Signal(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]

    id: NotRequired[Annotated[str, Field(min_length=1, max_length=MAX_ID)] | None]
    type: str
    account_id: str
    occurred_at: AwareDatetime  # strict: ISO text only; epoch numbers take the exact path
    value: NotRequired[StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)] | None]
    attributes: NotRequired[dict[str, Any] | None]


_Rows = Annotated[list[_Signal], Field(max_length=MAX_BATCH)]


class _Body(TypedDict):
    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]

    signals: _Rows


_BODY: TypeAdapter[_Body | list[_Signal]] = TypeAdapter(_Body | _Rows)  # type: ignore[arg-type]
# Attributes nest at depth 3 of the body ({"signals": [{"attributes": ...}]}).
_ATTRIBUTE_DEPTH = json_input.MAX_DEPTH - 3


def _encode(attributes: dict[str, Any]) -> str:
    try:
        return orjson.dumps(attributes).decode()
    except (TypeError, orjson.JSONEncodeError):
        # Integers past 64 bits, NaN: orjson refuses or changes them; json keeps them.
        return json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)


def fast_rows(raw: bytes, validator: RowValidator) -> list[dict[str, Any]] | None:
    """The batch's rows in ``RowValidator``'s shape, or None when the exact path must judge."""
    try:
        body = _BODY.validate_json(raw)
    except ValidationError:
        return None
    items: list[_Signal] = body["signals"] if isinstance(body, dict) else body
    types, account, latest, now = validator.types, validator.account, validator.latest, validator.now
    max_attributes = validator.max_attributes
    fullmatch = account.fullmatch
    rows: list[dict[str, Any]] = []
    append = rows.append
    for item in items:
        kind = item["type"]
        account_id = item["account_id"]
        # In UTC first: comparing times with one tzinfo object skips utcoffset() calls.
        when: datetime = item["occurred_at"].astimezone(UTC)
        if kind not in types or fullmatch(account_id) is None or not EARLIEST <= when <= latest:
            return None
        attributes = item.get("attributes")
        encoded = None
        if attributes:
            encoded = _encode(attributes)
            # Only an attribute that nests can be too deep; a brace in the text (maybe inside a
            # string) is what sends us to look.
            if ("[" in encoded or "{" in encoded[1:]) and any(
                isinstance(nested, dict | list) and json_input.too_deep(nested, _ATTRIBUTE_DEPTH)
                for nested in attributes.values()
            ):
                return None
            if len(encoded) > max_attributes // 4 and len(encoded.encode()) > max_attributes:
                return None
            if kind == "report":
                for name, limit in REPORT_FIELDS.items():
                    got = attributes.get(name)
                    if got is not None and (not isinstance(got, str) or len(got) > limit):
                        return None
        value = item.get("value")
        append(
            {
                "client_id": item.get("id"),
                "type": kind,
                "account_id": account_id,
                "occurred_at": when,
                "value": float(value) if value is not None else None,
                "attributes": attributes or None,
                "attributes_json": encoded,
                "received_at": now,
            }
        )
    return rows

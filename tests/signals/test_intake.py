"""What a client may send, row by row: the checks a batch passes before anything is stored,
without a database (the story tests in test_signals.py send the same over HTTP)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.harness.world import MONDAY, config_data
from workflows.config import VigilConfig, parse_config
from workflows.signals import (
    MAX_BATCH,
    BatchRejected,
    RowError,
    RowValidator,
    Unreadable,
    decode_batch,
    parse_time,
    validate_batch,
)
from workflows.signals.files import csv_item


@pytest.fixture
def validator(config: VigilConfig) -> RowValidator:
    return RowValidator(config, MONDAY)


def row(**fields: Any) -> dict[str, Any]:
    return {"type": "login", "account_id": "acct_1", "occurred_at": "2026-11-23T09:00:00Z", **fields}


# --- times ------------------------------------------------------------------------------------
def test_a_time_carries_its_zone_and_is_kept_in_utc() -> None:
    assert parse_time("2026-11-23T09:00:00Z") == datetime(2026, 11, 23, 9, tzinfo=UTC)
    berlin = parse_time("2026-11-23T10:00:00+01:00")
    assert berlin == datetime(2026, 11, 23, 9, tzinfo=UTC) and berlin.tzinfo == UTC
    assert parse_time("2026-11-23T09:00:00.250-05:30").utcoffset() == timedelta(0)


def test_epoch_seconds_are_accepted_as_integers_and_fractions() -> None:
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_time(1_795_424_400.5) == datetime.fromtimestamp(1_795_424_400.5, UTC)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-11-23T09:00:00", "has no timezone"),
        ("yesterday", "is not an ISO 8601 time"),
        ("", "is not an ISO 8601 time"),
        (True, "ISO 8601 time with a timezone, or epoch seconds"),
        (None, "ISO 8601 time with a timezone, or epoch seconds"),
        ([2026, 11, 23], "ISO 8601 time with a timezone, or epoch seconds"),
        (math.nan, "finite number"),
        (math.inf, "finite number"),
        (1e20, "out of range"),
        (-1e20, "out of range"),
    ],
)
def test_a_time_that_is_not_one_says_why(value: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_time(value)


def test_a_long_bad_time_is_quoted_short() -> None:
    with pytest.raises(ValueError) as refused:
        parse_time("x" * 500)
    assert len(str(refused.value)) < 80


def test_the_future_is_refused_beyond_an_hour_of_clock_drift(validator: RowValidator) -> None:
    drift = (MONDAY + timedelta(minutes=59)).isoformat()
    assert isinstance(validator(row(occurred_at=drift)), dict)
    ahead = (MONDAY + timedelta(minutes=61)).isoformat()
    assert validator(row(occurred_at=ahead)) == ["occurred_at: in the future"]
    assert validator(row(occurred_at="1999-12-31T23:59:59Z")) == ["occurred_at: before 2000"]
    assert validator(row(occurred_at=None)) == ["occurred_at: required"]


# --- rows -------------------------------------------------------------------------------------
def test_a_good_row_becomes_the_values_that_are_stored(validator: RowValidator) -> None:
    stored = validator(row(id=42, value=3, attributes={"country": "DE", "ü": "ß"}))
    assert stored == {
        "client_id": "42",  # a numeric id is the same id as its text
        "type": "login",
        "account_id": "acct_1",
        "occurred_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
        "value": 3.0,
        "attributes": {"country": "DE", "ü": "ß"},
        "attributes_json": '{"country":"DE","ü":"ß"}',
        "received_at": MONDAY,
    }
    bare = validator(row(attributes={}))
    assert isinstance(bare, dict)
    assert (bare["attributes"], bare["attributes_json"], bare["value"]) == (None, None, None)


def test_attributes_are_measured_in_encoded_bytes_against_the_configured_limit() -> None:
    small = parse_config({**config_data(), "signals": {"max_attribute_bytes": 256}})
    validator = RowValidator(small, MONDAY)
    # {"n":"…"} is 8 bytes around the text; "é" is two bytes in UTF-8.
    assert isinstance(validator(row(attributes={"n": "é" * 124})), dict)  # 256 bytes
    assert validator(row(attributes={"n": "é" * 125})) == ["attributes: 258 bytes, over the 256-byte limit"]
    assert validator(row(attributes=["a"])) == ["attributes: must be an object"]


def test_report_fields_are_text_of_bounded_length(validator: RowValidator) -> None:
    report = row(type="report", attributes={"reason": "r" * 64, "reporter": "guest_1", "text": "t"})
    assert isinstance(validator(report), dict)
    too_long = row(type="report", attributes={"reason": "r" * 65, "text": 7})
    assert validator(too_long) == [
        "attributes.reason: must be text of at most 64 characters",
        "attributes.text: must be text of at most 10000 characters",
    ]
    # Only reports have these fields: a login may carry any "reason".
    assert isinstance(validator(row(attributes={"reason": "r" * 65})), dict)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"value": True}, "value: must be a number"),
        ({"value": "12"}, "value: must be a number"),
        ({"value": math.nan}, "value: must be a number"),
        ({"id": ""}, "id: must be a string of 1 to 128 characters"),
        ({"id": "x" * 129}, "id: must be a string of 1 to 128 characters"),
        ({"id": False}, "id: must be a string of 1 to 128 characters"),
        ({"account_id": "acct 1"}, "account_id: missing or not an account id"),
        ({"type": "t" * 100}, f"type: unknown signal type {'t' * 40!r}"),
    ],
)
def test_each_bad_field_is_named(validator: RowValidator, fields: dict[str, Any], error: str) -> None:
    (said,) = validator(row(**fields))
    assert said.startswith(error)


def test_every_problem_of_a_row_is_listed_at_once(validator: RowValidator) -> None:
    said = validator({"type": "warp", "colour": "red", "shape": 1, "occurred_at": "soon"})
    assert said[0] == "unknown field(s): colour, shape"
    assert len(said) == 4  # unknown fields, type, account id, time
    assert validator("a string") == ["a signal must be a JSON object"]
    assert validator(Unreadable("not valid JSON")) == ["not valid JSON"]


# --- batches ----------------------------------------------------------------------------------
def test_a_batch_with_one_bad_row_is_refused_whole(validator: RowValidator) -> None:
    assert len(validate_batch([row(), row()], validator)) == 2
    with pytest.raises(BatchRejected) as refused:
        validate_batch([row(), row(value="x"), row(), "no"], validator)
    assert refused.value.status == 422
    assert refused.value.rows == [
        RowError(1, ["value: must be a number"]),
        RowError(3, ["a signal must be a JSON object"]),
    ]
    assert "2 of 4 signals are invalid; nothing was stored" in refused.value.reason


def test_a_refusal_lists_the_first_hundred_bad_rows_and_counts_them_all(validator: RowValidator) -> None:
    with pytest.raises(BatchRejected) as refused:
        validate_batch([row(value="x")] * 250, validator)
    body = refused.value.to_dict()
    assert body["bad_rows"] == 250 and len(body["rows"]) == 100
    assert body["rows"][99] == {"index": 99, "errors": ["value: must be a number"]}


def test_a_body_is_an_object_with_signals_or_a_bare_array() -> None:
    assert decode_batch(b'{"signals": [{"a": 1}]}') == [{"a": 1}]
    assert decode_batch(b"[1, 2]") == [1, 2]
    for body, status in (
        (b'{"rows": []}', 400),
        (b'"signals"', 400),
        (b"{", 400),
        (b"\xff", 400),
        (json.dumps([{}] * (MAX_BATCH + 1)).encode(), 413),
    ):
        with pytest.raises(BatchRejected) as refused:
            decode_batch(body)
        assert refused.value.status == status, body[:20]
        assert refused.value.to_dict()["ok"] is False


# --- files ------------------------------------------------------------------------------------
def test_a_csv_record_becomes_the_object_the_api_would_get() -> None:
    assert csv_item(
        {
            "id": "c1",
            "type": "report",
            "account_id": "acct_1",
            "occurred_at": "2026-11-23T09:00:00Z",
            "value": "2.5",
            "country": "DE",
            "attributes": '{"reason": "spam"}',
            "empty": "",
        }
    ) == {
        "id": "c1",
        "type": "report",
        "account_id": "acct_1",
        "occurred_at": "2026-11-23T09:00:00Z",
        "value": 2.5,
        "attributes": {"country": "DE", "reason": "spam"},
    }
    # What cannot be read is passed on as it is, for the validator to name.
    assert csv_item({"value": "lots", "attributes": "[1]"}) == {"value": "lots", "attributes": [1]}


def test_utc_offsets_other_than_whole_hours_are_kept_exactly() -> None:
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    at = datetime(2026, 11, 23, 14, 45, tzinfo=kathmandu)
    assert parse_time(at.isoformat()) == datetime(2026, 11, 23, 9, tzinfo=UTC)

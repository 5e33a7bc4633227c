"""Signal files for ``vigil signals import``: CSV or JSON Lines, read row by row so a file
bigger than memory streams through the same validator as the HTTP API."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from workflows import json_input
from workflows.signals.intake import Unreadable

CSV_COLUMNS = {"id", "type", "account_id", "occurred_at", "value", "attributes"}


def csv_item(record: dict[str, str | None]) -> dict[str, Any]:
    """A CSV record as the signal object the API would get: known columns as fields, the
    ``attributes`` column (a JSON object) and every other column as attributes."""
    item: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, raw in record.items():
        if key is None or raw is None or raw == "":
            continue
        if key == "attributes":
            try:
                parsed = json_input.loads(raw)
            except ValueError:
                parsed = raw  # the validator says what is wrong with it
            if isinstance(parsed, dict):
                attributes.update(parsed)
            else:
                item["attributes"] = parsed
        elif key == "value":
            try:
                item["value"] = float(raw)
            except ValueError:
                item["value"] = raw
        elif key in CSV_COLUMNS:
            item[key] = raw
        else:
            attributes[key] = raw
    if attributes and "attributes" not in item:
        item["attributes"] = attributes
    return item


def read_signal_file(path: Any, fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, signal object) for each row of a CSV or JSON Lines file."""
    with open(path, encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            for record in reader:
                yield reader.line_num, csv_item(record)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json_input.loads(line)
            except json_input.JsonInputError as exc:
                yield number, Unreadable(str(exc))

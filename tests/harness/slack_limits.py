"""Slack's own limits on what a message may hold, checked the way Slack checks them."""

from __future__ import annotations

from commands.blocks.reports import MAX_BLOCKS, MAX_FIELDS


def assert_within_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len((block.get("text") or {}).get("text", "")) <= 3000
            assert len(block.get("fields") or []) <= MAX_FIELDS
            assert all(len(f["text"]) <= 2000 for f in block.get("fields") or [])
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150

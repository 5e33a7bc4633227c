"""Refusals of the decisions concept as a code and fields; adapters word them
(commands/blocks/decisions.py for Slack, bot/http.py for the appeals API)."""

from __future__ import annotations

from typing import Any


class AppealRefused(Exception):
    """``status`` is the HTTP status the appeals API answers with."""

    def __init__(self, code: str, status: int = 409, **fields: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.fields = fields

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{self.code}({shown})" if shown else self.code

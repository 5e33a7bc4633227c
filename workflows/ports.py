"""Ports: what workflows need from the outside world, as protocols. Adapters in bot/
implement them (Slack), tests implement them with fakes or the fake Slack server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str


class Notifier(Protocol):
    """Sends Vigil's words back to the team. Text here is plain; adapters escape and render."""

    def post(self, channel: str, text: str, thread_ts: str | None = None) -> MessageRef: ...

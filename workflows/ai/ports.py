"""What the AI concept needs from outside: a language model that answers in a given shape.

The adapter (bot/gateways/openai.py) parses the answer into the pydantic model it is given,
or raises ``ModelFailure`` with the reason the offline path will name; it never retries
(the caller decides, and the budget counts every attempt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from workflows.ai.views import SummaryView

T = TypeVar("T", bound=BaseModel)

FailureReason = Literal[
    "not_configured", "budget_exhausted", "timeout", "rate_limited", "server_error", "malformed", "error"
]


class ModelFailure(Exception):
    """A call that gave no usable answer; ``reason`` is what the fallback says."""

    def __init__(self, reason: FailureReason, detail: str = "", tokens_in: int = 0, tokens_out: int = 0):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: FailureReason = reason
        self.detail = detail
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out


@dataclass(frozen=True)
class Completion(Generic[T]):
    value: T
    model: str
    tokens_in: int
    tokens_out: int


class LanguageModel(Protocol):
    def complete(
        self, *, model: str, system: str, prompt: str, schema: type[T], timeout: float
    ) -> Completion[T]: ...


class AiNotifier(Protocol):
    """Where AI answers are shown (Slack threads); placeholders are already restored."""

    def post_summary(self, channel: str, thread_ts: str, view: SummaryView) -> None: ...

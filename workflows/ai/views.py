"""What the AI features answer, as pydantic models (the shapes the model must fill) and the
read models adapters show. ``ai`` says who wrote it: the model, or the offline path and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Category = Literal[
    "suspension_request",
    "reinstatement_request",
    "cx_escalation",
    "host_report",
    "user_report",
    "abuse_inquiry",
    "other",
]
Priority = Literal["P1", "P2", "P3", "P4"]


class Summary(BaseModel):
    summary: str = Field(max_length=2000)
    key_facts: list[str] = Field(default_factory=list, max_length=10)
    open_questions: list[str] = Field(default_factory=list, max_length=8)
    next_step: str = Field(max_length=500)


class TriageAdvice(BaseModel):
    category: Category
    priority: Priority
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(max_length=300)


class PatternLabel(BaseModel):
    label: str = Field(max_length=80)


class Narrative(BaseModel):
    sentences: list[str] = Field(max_length=8)


@dataclass(frozen=True)
class Authorship:
    """Who wrote an answer: ``ai`` True for the model; otherwise ``fallback`` is why not."""

    ai: bool
    fallback: str | None = None  # words: "no AI configured", "the AI model timed out", …
    truncated: str | None = None
    model: str | None = None

    @property
    def label(self) -> str:
        if self.ai:
            return f"AI-written ({self.model})" if self.model else "AI-written"
        if self.fallback == "no AI configured":
            return "extractive summary, no AI configured"
        return f"offline answer: {self.fallback}" if self.fallback else "offline answer"


@dataclass(frozen=True)
class SummaryView:
    ref: str
    summary: Summary
    by: Authorship
    channel: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class SuggestionView:
    case_ref: str
    category: str
    priority: str
    confidence: float
    rationale: str
    source: str  # ai, offline
    fallback: str | None = None


@dataclass(frozen=True)
class Figure:
    label: str
    value: float | int | str
    previous: float | int | str | None = None


@dataclass(frozen=True)
class NarrativeView:
    sentences: list[str]
    by: Authorship
    dropped: list[str] = field(default_factory=list)  # sentences stating a figure not given


@dataclass(frozen=True)
class CallView:
    at: datetime
    task: str
    model: str
    template_hash: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    outcome: str
    subject: str | None


@dataclass(frozen=True)
class LabelView:
    label: str
    by: Authorship

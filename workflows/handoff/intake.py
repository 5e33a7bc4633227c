"""A requirement for Engineering, checked: what the Send to Engineering modal (or a caller)
hands in."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

# Open: the lead adds "pattern" cards after merging; anything else names its own kind.
SubjectType = Literal["case", "investigation", "anomaly", "pattern", "coverage", "enforcement"]
Priority = Literal["P1", "P2", "P3", "P4"]


class Requirement(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    subject_type: SubjectType
    subject_ref: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=3, max_length=200)
    problem: str = Field(min_length=3, max_length=10_000)
    evidence: str = Field(default="", max_length=10_000)
    impact: str = Field(default="", max_length=5_000)
    mitigation: str = Field(default="", max_length=5_000)
    priority: Priority = "P3"

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

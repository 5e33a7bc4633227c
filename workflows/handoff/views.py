"""A hand-off as adapters see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.handoff import Handoff


@dataclass(frozen=True)
class HandoffView:
    id: int
    ref: str
    request_id: str
    subject_type: str
    subject_ref: str
    title: str
    problem: str
    evidence: str
    impact: str
    mitigation: str
    priority: str
    requested_by: str
    status: str
    ticket_key: str | None
    ticket_url: str | None
    ticket_status: str | None
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Handoff) -> HandoffView:
        return cls(
            id=row.id,
            ref=row.ref,
            request_id=row.request_id,
            subject_type=row.subject_type,
            subject_ref=row.subject_ref,
            title=row.title,
            problem=row.problem,
            evidence=row.evidence,
            impact=row.impact,
            mitigation=row.mitigation,
            priority=row.priority,
            requested_by=row.requested_by,
            status=row.status,
            ticket_key=row.ticket_key,
            ticket_url=row.ticket_url,
            ticket_status=row.ticket_status,
            last_error=row.last_error,
            created_at=row.created_at,
        )

    def description(self) -> str:
        """The issue body, plain text (the tracker adapter formats it)."""
        parts = [
            ("Problem", self.problem),
            ("Evidence", self.evidence),
            ("Impact", self.impact),
            ("Suggested mitigation", self.mitigation),
        ]
        body = "\n\n".join(f"{name}:\n{text}" for name, text in parts if text)
        return f"{body}\n\nFrom Vigil {self.ref} about {self.subject_ref}, priority {self.priority}."

"""What the hand-off needs from outside: an issue tracker (Jira) and a way to speak in Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workflows.handoff.views import HandoffView
from workflows.ports import MessageRef
from workflows.reports.views import Chart, DigestReport


@dataclass(frozen=True)
class Ticket:
    key: str
    url: str
    status: str | None = None


class TrackerError(Exception):
    """The tracker refused or failed. ``reason`` is safe to show (never a token)."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Issue:
    """A requirement as the tracker gets it."""

    label: str  # the idempotency label
    title: str
    description: str
    parts: dict[str, str]  # problem, evidence, impact, mitigation, priority (for the field map)


class IssueTracker(Protocol):
    def find(self, label: str) -> Ticket | None:
        """The issue an earlier attempt created with this label, if any."""
        ...

    def create(self, issue: Issue) -> Ticket: ...

    def status(self, key: str) -> str:
        """The issue's status name (To Do, In Progress, Done, …)."""
        ...


class HandoffNotifier(Protocol):
    def post_requirement(self, handoff: HandoffView) -> MessageRef:
        """Post the requirement, formatted, in the engineering channel (no tracker configured)."""
        ...

    def tell(self, channel: str, thread_ts: str | None, text: str) -> None:
        """Say something in the thread the hand-off came from."""
        ...


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    version: int


class ReviewPublisher(Protocol):
    """Writes the weekly review as a wiki page (Confluence), creating it or updating it in place."""

    def publish(self, title: str, report: DigestReport, charts: list[Chart]) -> Page: ...

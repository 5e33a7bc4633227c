"""Slack events run from the jobs table, never inside the request that delivered them.

bot/app.py commits the event id and a ``slack.event`` job in one transaction before the ack;
the job worker then calls the handler registered here for the event's type. Slack does not
redeliver an acked event, so a handler that fails is retried from the jobs table with
backoff: handlers must be idempotent (intake is keyed by channel and ts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from commands.access import permits
from commands.context import AppContext
from workflows.jobs import PermanentJobError
from workflows.roles import Role

JOB_SLACK_EVENT = "slack.event"


@dataclass(frozen=True)
class EventCall:
    ctx: AppContext
    client: WebClient
    body: dict[str, Any]  # the envelope, as envelope() kept it

    @property
    def event(self) -> dict[str, Any]:
        return self.body.get("event") or {}

    def permits(self, role: Role | None) -> bool:
        """Whether the person who caused the event holds ``role``; tells them privately if not."""
        return permits(self.ctx.roles, self.client, self.body, role)


EventHandler = Callable[[EventCall], None]
HANDLERS: dict[str, EventHandler] = {}


def on_event(event_type: str) -> Callable[[EventHandler], EventHandler]:
    """Register the handler of one event type (one each: the job is the unit that retries)."""

    def decorate(handler: EventHandler) -> EventHandler:
        if event_type in HANDLERS:
            raise ValueError(f"a handler for Slack event {event_type!r} is already registered")
        HANDLERS[event_type] = handler
        return handler

    return decorate


def handles(event_type: str | None) -> bool:
    return event_type in HANDLERS


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    """What a handler needs from the delivery, kept as the job's payload."""
    return {
        "type": body.get("type"),
        "event_id": body.get("event_id"),
        "team_id": body.get("team_id"),
        "event": body.get("event") or {},
    }


def register_jobs(ctx: AppContext, client: WebClient) -> None:
    def run(payload: dict[str, Any]) -> None:
        event_type = (payload.get("event") or {}).get("type")
        handler = HANDLERS.get(event_type or "")
        if handler is None:
            raise PermanentJobError(f"no handler for Slack event {event_type!r}")
        handler(EventCall(ctx, client, payload))

    ctx.jobs.register(JOB_SLACK_EVENT, run)

"""The Bolt app: verification, dedupe and error handling around the command adapters."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

import commands
from bot.listener_runner import answer_on_ack
from commands import events
from commands.context import AppContext
from store.slack_events import take_event
from workflows.config import secret
from workflows.metrics import ERRORS, SLACK_EVENTS_DUPLICATE

log = logging.getLogger(__name__)


def create_bolt_app(ctx: AppContext, client: WebClient) -> App:
    # Verification stays on in every mode: Bolt skips it only for requests that came over
    # the Socket Mode websocket (BoltRequest.mode), so any HTTP request must carry a signature.
    app = answer_on_ack(
        App(
            client=client,
            signing_secret=secret(ctx.settings.slack_signing_secret) or "",
            request_verification_enabled=True,
            process_before_response=False,
            listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="vigil-listener"),
            logger=logging.getLogger("slack_bolt.App"),
        )
    )

    @app.use
    def dedupe_events(body: dict[str, Any], next: Any) -> Any:
        """Take an event once, durably: its id and the job that does its work commit together
        before the ack, so a failing handler is retried from the jobs table (Slack will not
        redeliver an acked event) and a retried delivery or another replica's copy is dropped.
        If the commit fails, nothing is acked and Slack delivers the event again."""
        event_id = body.get("event_id")
        if body.get("type") == "event_callback" and event_id:
            event_type = (body.get("event") or {}).get("type")
            job = None
            if events.handles(event_type):
                job = (events.JOB_SLACK_EVENT, events.envelope(body), f"slack-event:{event_id}")
            with ctx.db.statements() as conn:
                first, queued = take_event(
                    conn, event_id, body.get("team_id"), event_type, ctx.clock.now(), job
                )
            if not first:
                SLACK_EVENTS_DUPLICATE.inc()
                log.info("duplicate Slack event dropped", extra={"event_id": event_id})
                return BoltResponse(status=200, body="")
            if queued:
                ctx.jobs.wake()
                return BoltResponse(status=200, body="")
        next()  # events nobody handles reach the catch-all below, which acks them
        return None

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        ERRORS.labels(where="listener").inc()
        log.error(
            "listener failed",
            exc_info=error,
            extra={"payload_type": body.get("type"), "command": body.get("command")},
        )

    commands.register(app, ctx)

    # Every event the manifest subscribes to is acked, handled or not, so Slack never
    # retries (or disables) a subscription because one listener is missing. Keep last.
    @app.event(re.compile(".*"))
    def ignore_other_events() -> None:
        return None

    return app

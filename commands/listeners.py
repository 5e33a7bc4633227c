"""Listener helpers: timing and failure counts, and private replies.

Bolt injects arguments by the wrapped function's own parameter names (it unwraps), so
handlers wrapped by ``timed`` keep their signatures."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.metrics import ERRORS, HANDLER_SECONDS

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def timed(kind: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            except Exception:
                ERRORS.labels(where=kind).inc()
                raise
            finally:
                HANDLER_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)

        return wrapper  # type: ignore[return-value]

    return decorate


def acks_at_once(func: F) -> F:
    """Mark a listener whose first act is a plain ``ack()``, whatever the payload: the app
    acks it in the request's own thread instead of waiting for the listener's thread to
    start (bot/listener_runner.py); the listener's own ack() is then a harmless repeat."""
    func.acks_at_once = True  # type: ignore[attr-defined]
    return func


def tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A private line to one person where they acted. Failing to tell must not fail the action."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("could not post an ephemeral reply", extra={"error": exc.response.get("error")})

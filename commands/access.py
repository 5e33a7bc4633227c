"""The one place roles are enforced: ``require(role)`` is attached to every listener that
needs one, and answers anyone else with an ephemeral "not allowed" before the handler runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.blocks.common import notice_modal
from workflows.metrics import ROLE_REFUSALS
from workflows.roles import Role, RoleBook

log = logging.getLogger(__name__)


def refusal_text(role: Role) -> str:
    return (
        f"Sorry, only Vigil {role.label} can do that. "
        f"Ask a T&S admin to add you to `roles.{role.label}` in Vigil's config."
    )


def user_of(body: dict[str, Any]) -> str | None:
    user = body.get("user_id") or body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    if user:
        return str(user)
    event = body.get("event") or {}
    return event.get("user")


def _channel_of(body: dict[str, Any]) -> str | None:
    if body.get("channel_id"):
        return body["channel_id"]
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return channel["id"]
    container = body.get("container") or {}
    if container.get("channel_id"):
        return container["channel_id"]
    event = body.get("event") or {}
    item = event.get("item") or {}
    return item.get("channel") or event.get("channel")


def refuse(client: WebClient, body: dict[str, Any], text: str) -> BoltResponse:
    """Tell only the person, in the surface they acted in, and change nothing."""
    kind = body.get("type")
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if kind == "view_submission":
        return BoltResponse(
            status=200, body={"response_action": "update", "view": notice_modal("Not allowed", text)}
        )
    user, channel = user_of(body), _channel_of(body)
    try:
        if kind == "shortcut" and body.get("trigger_id"):
            client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Not allowed", text))
        elif channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not deliver a refusal", extra={"error": exc.response.get("error")})
    return BoltResponse(status=200, body="")


def require(roles: RoleBook, role: Role | Callable[[dict[str, Any]], Role | None]) -> Callable[..., Any]:
    """A Bolt listener middleware: call next() only for people who hold the role (or above).

    ``role`` is a Role, or a function of the payload for listeners whose required role
    depends on what is asked (``/vigil queue`` vs ``/vigil help``).
    """

    def require_role(body: dict[str, Any], client: WebClient, next: Callable[[], None]) -> Any:
        needed = role(body) if callable(role) else role
        user = user_of(body)
        if needed is None or roles.has(user, needed):
            next()
            return None
        return _refused(client, body, user, needed)

    return require_role


def permits(roles: RoleBook, client: WebClient, body: dict[str, Any], needed: Role | None) -> bool:
    """The same check for work that runs outside a Bolt listener (events, from the jobs table)."""
    user = user_of(body)
    if needed is None or roles.has(user, needed):
        return True
    _refused(client, body, user, needed)
    return False


def _refused(client: WebClient, body: dict[str, Any], user: str | None, needed: Role) -> BoltResponse:
    ROLE_REFUSALS.labels(role=needed.name).inc()
    log.info("refused for lack of role", extra={"user": user, "role": needed.name})
    return refuse(client, body, refusal_text(needed))

"""Vigil's cards can be found again: each carries Slack message metadata naming what it shows
(``{"event_type": "vigil_card", "event_payload": {"kind": "case", "id": 12}}``).

A card is posted, then its ts is stored. A process that dies in between (or a database
write that fails) leaves a card Slack has and Vigil does not know; the retried post looks
first and adopts that card instead of posting a second one.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

CARD_EVENT = "vigil_card"
LOOK_BACK = 100  # messages: a retry comes minutes after the lost post, not hundreds of posts
CardKind = Literal["case", "request", "progress"]

_bots: weakref.WeakKeyDictionary[WebClient, str | None] = weakref.WeakKeyDictionary()
_bots_lock = threading.Lock()


def card_metadata(kind: CardKind, card_id: int) -> dict[str, Any]:
    return {"event_type": CARD_EVENT, "event_payload": {"kind": kind, "id": card_id}}


def find_card(
    client: WebClient, channel: str, kind: CardKind, card_id: int, *, thread_ts: str | None = None
) -> str | None:
    """The ts of Vigil's own card for ``kind``/``card_id`` among the channel's latest messages
    (or in one thread), or None. A look that fails says None: posting a card matters more
    than the small chance of a second one."""
    try:
        if thread_ts:
            answer = client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=LOOK_BACK
            )
        else:
            answer = client.conversations_history(channel=channel, include_all_metadata=True, limit=LOOK_BACK)
    except SlackApiError as exc:
        log.warning("could not look for an earlier card", extra={"error": exc.response.get("error")})
        return None
    ours = _own_bot_id(client)
    for message in answer.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if (
            metadata.get("event_type") == CARD_EVENT
            and payload.get("kind") == kind
            and str(payload.get("id")) == str(card_id)
            and ours is not None
            and message.get("bot_id") == ours  # another app's message is never adopted
        ):
            log.info("adopting a card posted before a failure", extra={"kind": kind, "id": card_id})
            return str(message["ts"])
    return None


def _own_bot_id(client: WebClient) -> str | None:
    with _bots_lock:
        if client in _bots:
            return _bots[client]
    try:
        bot_id = client.auth_test().get("bot_id")
    except SlackApiError:
        return None  # unknown this time; asked again next time
    with _bots_lock:
        _bots[client] = bot_id
    return bot_id

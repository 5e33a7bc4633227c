"""Signs and sends Slack payloads to Vigil over real HTTP, exactly as Slack would."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

TEAM = "T0TEAM001"
_ids = itertools.count(1)


class SlackSender:
    def __init__(self, url: str, signing_secret: str, response_url: str) -> None:
        self.url = url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.response_url = response_url
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        body: bytes | str,
        content_type: str,
        *,
        sign: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        raw = body.encode() if isinstance(body, str) else body
        ts = str(timestamp if timestamp is not None else int(time.time()))
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if sign:
            signature = SignatureVerifier(secret or self.secret).generate_signature(
                timestamp=ts, body=raw.decode("utf-8", errors="replace")
            )
            all_headers.update({"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
        return self.http.post(self.url, content=raw, headers=all_headers)

    def command(
        self, command: str, text: str = "", user: str = "U0ANA0001", channel: str = "C0ESC0001", **kwargs: Any
    ) -> httpx.Response:
        post_kwargs = _post_kwargs(kwargs)
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "escalations",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0VIGIL01",
            "response_url": self.response_url,
            "trigger_id": f"trigger.{next(_ids)}",
            **kwargs,
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **post_kwargs)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        body = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0VIGIL01",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "U0VIGIL01", "is_bot": True}],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(body), "application/json", headers=headers, **kwargs)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        payload = {
            "team": {"id": TEAM, "domain": "test"},
            "api_app_id": "A0VIGIL01",
            "token": "legacy",
            **payload,
        }
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kwargs
        )

    def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str = "U0ANA0001",
        channel: str = "C0ESC0001",
        message_ts: str = "1764000000.000001",
        block_id: str = "b",
        **extra: Any,
    ) -> httpx.Response:
        post_kwargs = _post_kwargs(extra)
        return self.interactive(
            {
                "type": "block_actions",
                "user": {"id": user, "username": user.lower()},
                "channel": {"id": channel},
                "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
                "message": {"ts": message_ts, "text": ""},
                "trigger_id": f"trigger.{next(_ids)}",
                "response_url": self.response_url,
                "actions": [
                    {
                        "action_id": action_id,
                        "block_id": block_id,
                        "value": value,
                        "type": "button",
                        "action_ts": str(time.time()),
                    }
                ],
                **extra,
            },
            **post_kwargs,
        )

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U0ANA0001",
        private_metadata: str = "",
    ) -> httpx.Response:
        return self.interactive(
            {
                "type": "view_submission",
                "user": {"id": user, "username": user.lower()},
                "trigger_id": f"trigger.{next(_ids)}",
                "view": {
                    "id": f"V{next(_ids):08d}",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": private_metadata,
                    "state": {"values": values},
                    "hash": "h",
                },
            }
        )


def _post_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in ("sign", "timestamp", "secret", "headers") if k in kwargs}

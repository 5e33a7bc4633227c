"""The notifier port, backed by Slack."""

from __future__ import annotations

from slack_sdk import WebClient

from commands.blocks.common import escape
from workflows.ports import MessageRef, Notifier


class SlackNotifier(Notifier):
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, text: str, thread_ts: str | None = None) -> MessageRef:
        response = self.client.chat_postMessage(
            channel=channel, text=escape(text), thread_ts=thread_ts, unfurl_links=False
        )
        return MessageRef(channel=response["channel"], ts=response["ts"])

"""The enforcement notifier port (workflows/enforcement/ports.py), backed by Slack."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.blocks import enforcement as blocks
from commands.cards import card_metadata, find_card
from workflows.config import Channels
from workflows.enforcement import (
    RequestView,
    Summary,
)
from workflows.ports import MessageRef

log = logging.getLogger(__name__)


class SlackEnforcementNotifier:
    """The enforcement notifier port (workflows/enforcement/ports.py), backed by Slack."""

    def __init__(self, client: WebClient, channels: Channels) -> None:
        self.client = client
        self.channels = channels

    def post_card(self, request: RequestView) -> MessageRef:
        """Post the card, or adopt the one an attempt that failed before storing it posted."""
        text, card = blocks.card(request)
        channel = self.channels.approvals
        found = find_card(self.client, channel, "request", request.id)
        if found is not None:
            self.client.chat_update(channel=channel, ts=found, text=text, blocks=card)
            return MessageRef(channel, found)
        response = self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=card,
            unfurl_links=False,
            unfurl_media=False,
            metadata=card_metadata("request", request.id),
        )
        return MessageRef(response["channel"], response["ts"])

    def update_card(self, request: RequestView) -> None:
        if request.card is None:
            return
        text, card = blocks.card(request)
        self.client.chat_update(channel=request.card.channel, ts=request.card.ts, text=text, blocks=card)

    def _thread(self, request: RequestView, text: str, **kwargs: Any) -> str | None:
        if request.card is None:
            return None
        response = self.client.chat_postMessage(
            channel=request.card.channel, thread_ts=request.card.ts, text=text, unfurl_links=False, **kwargs
        )
        return response["ts"]

    def requester_link(self, request: RequestView, checked_duplicates: list[str]) -> None:
        permalink = None
        if request.card is not None:
            try:
                permalink = self.client.chat_getPermalink(
                    channel=request.card.channel, message_ts=request.card.ts
                )["permalink"]
            except SlackApiError:
                log.warning("no permalink for the approval card", extra={"request": request.ref})
        text = blocks.requester_text(request, permalink, checked_duplicates)
        if request.origin_channel:
            try:
                self.client.chat_postEphemeral(
                    channel=request.origin_channel, user=request.requester, text=text
                )
                return
            except SlackApiError:
                pass  # Vigil is not in that channel: tell them directly instead
        self.client.chat_postMessage(channel=request.requester, text=text)

    def decision(self, request: RequestView, by: str, final: bool) -> None:
        self._thread(request, blocks.decision_text(request, by, final))

    def account_results(self, request: RequestView, results: list[Any]) -> None:
        self._thread(request, blocks.results_text(results))

    def progress(self, request: RequestView) -> str | None:
        text = blocks.progress_text(request)
        progress_ts = request.progress_ts
        if not progress_ts and request.card is not None:  # posted, but its ts was never stored?
            progress_ts = find_card(
                self.client, request.card.channel, "progress", request.id, thread_ts=request.card.ts
            )
        if progress_ts and request.card is not None:
            self.client.chat_update(channel=request.card.channel, ts=progress_ts, text=text)
            return progress_ts
        return self._thread(request, text, metadata=card_metadata("progress", request.id))

    def summary(self, summary: Summary) -> None:
        request = summary.request
        text, summary_blocks = blocks.summary_blocks(summary)
        self._thread(request, text, blocks=summary_blocks)
        if summary.failures and request.card is not None:
            self.client.files_upload_v2(
                channel=request.card.channel,
                thread_ts=request.card.ts,
                content=blocks.failures_csv(summary.failures),
                filename=f"{request.ref}-failures.csv",
                title=f"{request.ref}: failed accounts",
            )

    def hand_off(self, request: RequestView, accounts: list[str]) -> None:
        text, handoff = blocks.hand_off(request, accounts)
        response = self.client.chat_postMessage(
            channel=self.channels.engineering, text=text, blocks=handoff, unfurl_links=False
        )
        if len(accounts) > blocks.HANDOFF_INLINE:
            self.client.files_upload_v2(
                channel=response["channel"],
                thread_ts=response["ts"],
                content=blocks.accounts_csv(accounts),
                filename=f"{request.ref}-accounts.csv",
                title=f"{request.ref}: accounts to {request.action}",
            )

    def manual_done(self, request: RequestView, engineer: str, count: int) -> None:
        self._thread(request, blocks.manual_done_text(request, engineer, count))

    def retrying(self, request: RequestView, by: str, count: int) -> None:
        self._thread(
            request,
            f":repeat: <@{by}> retried {count:,} failed action(s) of {request.ref} "
            "with the same idempotency keys.",
        )

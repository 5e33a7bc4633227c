"""The Slack Web API client: one base URL (SLACK_API_URL) and slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from workflows.roles import GroupDirectory


def make_client(token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),  # sleeps for Retry-After
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackGroupDirectory(GroupDirectory):
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def members(self, group_id: str) -> list[str]:
        response = self.client.usergroups_users_list(usergroup=group_id)
        return list(response.get("users") or [])

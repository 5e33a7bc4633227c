"""The Slack Web API client: one base URL (SLACK_API_URL) and slack_sdk's retry handlers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
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


# auth.test errors that mean "this token is not one Slack accepts" (as opposed to Slack or the
# URL misbehaving).
_TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
}
_ERROR_CODE = re.compile(r"^[a-z_]{2,64}$")
_QUIET = logging.getLogger("vigil.slack_auth_test")
_QUIET.disabled = True


@dataclass(frozen=True)
class TokenCheck:
    """What auth.test says about SLACK_BOT_TOKEN, as one line an operator can act on."""

    ok: bool
    problem: str = ""  # one line: what failed and what to check
    user: str | None = None
    team_id: str | None = None
    scopes: set[str] | None = None  # None: Slack did not say
    raw: dict[str, Any] = field(default_factory=dict)


def check_token(client: WebClient, api_url: str) -> TokenCheck:
    """Call auth.test and never raise: a refused token, an unreachable or wrong SLACK_API_URL
    and an answer that is not Slack's each get their own one-line reason."""
    # The same client, minus slack_sdk's error log per attempt: the reason is in the one line.
    quiet = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=client.retry_handlers,
        logger=_QUIET,
    )
    try:
        response = quiet.auth_test()
    except SlackApiError as exc:
        status = getattr(exc.response, "status_code", None)
        data = getattr(exc.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if status == 200 and isinstance(code, str) and _ERROR_CODE.match(code):
            if code in _TOKEN_ERRORS:
                return TokenCheck(
                    False,
                    f"Slack refused SLACK_BOT_TOKEN ({code}): use the Bot User OAuth Token (xoxb-…) "
                    "from OAuth & Permissions of the installed app",
                )
            return TokenCheck(False, f"auth.test failed ({code}): check SLACK_BOT_TOKEN and SLACK_API_URL")
        if status == 429 or (isinstance(status, int) and status >= 500):
            return TokenCheck(
                False,
                f"Slack answered auth.test with HTTP {status}: try again shortly (status.slack.com), "
                "or check SLACK_API_URL",
            )
        return TokenCheck(
            False,
            f"unexpected answer from {api_url}auth.test (HTTP {status}): check that SLACK_API_URL is "
            "Slack's Web API (https://slack.com/api/)",
        )
    except (OSError, HTTPException) as exc:  # urllib, socket, TLS: the URL or the network
        reason = getattr(exc, "reason", None) or exc
        return TokenCheck(
            False,
            f"cannot reach Slack at {api_url} ({type(exc).__name__}: {reason}): check SLACK_API_URL "
            "and the network or proxy",
        )
    except Exception as exc:  # an answer slack_sdk could not read (not Slack's shape)
        return TokenCheck(
            False,
            f"unexpected answer from {api_url}auth.test ({type(exc).__name__}): check that "
            "SLACK_API_URL is Slack's Web API (https://slack.com/api/)",
        )
    data = response.data if isinstance(response.data, dict) else {}
    header = (response.headers or {}).get("x-oauth-scopes")
    scopes = {s.strip() for s in header.split(",") if s.strip()} if isinstance(header, str) else None
    user, team = data.get("user"), data.get("team_id")
    return TokenCheck(
        True,
        user=str(user) if user else None,
        team_id=str(team) if team else None,
        scopes=scopes,
        raw=data,
    )

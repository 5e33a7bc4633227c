"""The HTTP client Jira and Confluence share: the same site, the same credentials (an email with
an API token as basic auth, or the token alone as a bearer for Data Center)."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

TIMEOUT = 10.0


def atlassian_client(
    base: str, token: SecretStr, email: str | None, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    headers = {"Accept": "application/json"}
    auth: httpx.Auth | None = None
    if email:
        auth = httpx.BasicAuth(email, token.get_secret_value())
    else:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return httpx.Client(base_url=base, auth=auth, headers=headers, timeout=TIMEOUT, transport=transport)

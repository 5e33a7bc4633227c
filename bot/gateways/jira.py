"""Jira Cloud/Server REST v2 as the hand-off's issue tracker, over httpx.

Auth: VIGIL_JIRA_EMAIL + VIGIL_JIRA_TOKEN (basic, Jira Cloud) or the token alone as a bearer
(Server/Data Center personal access token). The token is only ever in the Authorization
header: errors carry the status and Jira's own messages, never a request's headers.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from bot.gateways.atlassian import atlassian_client
from bot.gateways.platform import parse_retry_after
from workflows.config import HandoffSettings
from workflows.handoff import Issue, Ticket, TrackerError


class JiraTracker:
    def __init__(
        self,
        url: str,
        token: SecretStr,
        settings: HandoffSettings,
        email: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = url.rstrip("/")
        self.settings = settings
        self.client = atlassian_client(self.base, token, email, transport)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TrackerError(f"Jira unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise TrackerError(
                _reason(response),
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        try:
            data = response.json() if response.content else {}
        except ValueError:
            raise TrackerError(f"Jira answered {response.status_code} with a body that is not JSON") from None
        return data if isinstance(data, dict) else {}

    def find(self, label: str) -> Ticket | None:
        data = self._call(
            "GET", "/rest/api/2/search", params={"jql": f'labels = "{label}"', "fields": "status"}
        )
        issues = data.get("issues") or []
        if not issues:
            return None
        first = issues[0]
        return Ticket(first["key"], self.browse(first["key"]), _status_of(first))

    def create(self, issue: Issue) -> Ticket:
        fields: dict[str, Any] = {
            "project": {"key": self.settings.jira_project},
            "issuetype": {"name": self.settings.issue_type},
            "summary": issue.title,
            "description": issue.description,
            "labels": ["vigil", issue.label],
        }
        for part, field in self.settings.field_map.items():
            value = issue.parts.get(part)
            if value:
                fields[field] = value
        data = self._call("POST", "/rest/api/2/issue", json={"fields": fields})
        key = data.get("key")
        if not isinstance(key, str):
            raise TrackerError("Jira created an issue but did not say its key")
        return Ticket(key, self.browse(key), None)

    def status(self, key: str) -> str:
        data = self._call("GET", f"/rest/api/2/issue/{key}", params={"fields": "status"})
        status = _status_of(data)
        if status is None:
            raise TrackerError(f"Jira did not say the status of {key}")
        return status

    def browse(self, key: str) -> str:
        return f"{self.base}/browse/{key}"


def _status_of(issue: dict[str, Any]) -> str | None:
    status = (issue.get("fields") or {}).get("status") or {}
    name = status.get("name") if isinstance(status, dict) else None
    return name if isinstance(name, str) else None


def _reason(response: httpx.Response) -> str:
    """Jira's own words for a refusal: errorMessages and per-field errors (a required custom
    field missing names the field)."""
    words: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, dict):
        words += [str(m) for m in body.get("errorMessages") or []]
        words += [f"{field}: {message}" for field, message in (body.get("errors") or {}).items()]
    detail = "; ".join(words)[:300]
    label = {401: "unauthorized", 403: "forbidden", 429: "rate limited"}.get(response.status_code, "error")
    return f"Jira {response.status_code} {label}" + (f": {detail}" if detail else "")

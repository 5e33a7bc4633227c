"""The enforcement gateway port, backed by the platform's HTTP API (httpx).

One attempt per ``execute``; the worker (workflows/enforcement.py) owns retries and backoff.
Classification follows the contract in DESIGN.md: 2xx done (a replay for a repeated key
too), 409 already in that state, 404 and 400/422 permanent, 429/5xx/timeouts transient.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC

import httpx

from workflows.enforcement import ActionCall, Outcome

log = logging.getLogger(__name__)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or "")[:200]
    return ""


class HttpEnforcementGateway:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 10.0, connections: int = 16):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    def close(self) -> None:
        self.client.close()

    def execute(self, call: ActionCall) -> Outcome:
        body = {
            "reason_code": call.reason_code,
            "note": call.note,
            "request_id": call.request_ref,
            "actor": call.actor,
            "approved_by": call.approved_by,
        }
        try:
            response = self.client.post(
                f"/accounts/{call.account_id}/{call.action}",
                json=body,
                headers={"Idempotency-Key": call.idempotency_key},
            )
        except httpx.TimeoutException:
            return Outcome("transient", None, "timed out")
        except httpx.HTTPError as exc:
            return Outcome("transient", None, f"{type(exc).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome("done", status)
        if status == 409:
            return Outcome("already", status, _detail(response))
        if status == 404:
            return Outcome("permanent", status, _detail(response) or "unknown account")
        if status in (400, 422):
            return Outcome("permanent", status, _detail(response) or "rejected")
        if status == 429 or status >= 500:
            return Outcome(
                "transient", status, _detail(response), parse_retry_after(response.headers.get("Retry-After"))
            )
        # 401/403 and anything unexpected: a configuration problem someone must fix, then retry.
        log.warning("enforcement API answered unexpectedly", extra={"status": status})
        return Outcome("transient", status, _detail(response) or f"HTTP {status}")

    def lookup(self, account_id: str) -> str | None:
        try:
            response = self.client.get(f"/accounts/{account_id}")
        except httpx.HTTPError:
            return None
        if response.status_code == 404:
            return "unknown"
        if response.status_code != 200:
            return None
        try:
            state = response.json().get("state")
        except (ValueError, AttributeError):
            return None
        return str(state) if state else None

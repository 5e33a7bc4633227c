"""`POST /api/v1/jira/webhook`: Jira tells Vigil a hand-off's ticket moved.

Checked against VIGIL_JIRA_WEBHOOK_SECRET: Jira Cloud signs the body (`X-Hub-Signature:
sha256=<hex HMAC>`); Jira Server, which cannot sign, may put the secret in the URL
(`?secret=`). Without a valid one: 401. 404 only when the hand-off is not configured at all
(no Jira URL and no webhook secret)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api_schema import Problem
from commands.context import AppContext
from workflows.config import secret

MAX_BYTES = 1024 * 1024


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse(Problem(error=reason).model_dump(), status_code=status)


def _signed(raw: bytes, request: Request, key: str) -> bool:
    offered = request.headers.get("x-hub-signature", "")
    if offered.startswith("sha256="):
        expected = hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(offered[7:], expected)
    given = request.query_params.get("secret", "")
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def jira_webhook(ctx: AppContext) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        key = secret(ctx.settings.vigil_jira_webhook_secret)
        if not key and not ctx.settings.vigil_jira_url:
            return _error(404, "the Engineering hand-off to Jira is not configured")
        raw = await request.body()
        if len(raw) > MAX_BYTES:
            return _error(413, "body over 1 MB")
        if not key or not _signed(raw, request, key):
            return _error(401, "missing or wrong webhook secret (set VIGIL_JIRA_WEBHOOK_SECRET)")
        try:
            body: Any = json.loads(raw)
            issue = body["issue"]
            ticket, status = str(issue["key"]), str(issue["fields"]["status"]["name"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "expected a Jira issue event: {issue: {key, fields: {status: {name}}}}")
        if ctx.handoffs is None:
            return _error(404, "the Engineering hand-off is not configured")
        changed = await run_in_threadpool(ctx.handoffs.status_changed, ticket, status)
        return JSONResponse({"ticket": ticket, "status": status, "changed": changed})

    return receive

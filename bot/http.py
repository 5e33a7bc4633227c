"""The HTTP surface: /slack/events, /healthz, /metrics, /api/v1/signals, /api/v1/appeals,
/api/v1/jira/webhook, /openapi.json.

Bolt's Starlette adapter decodes the body before the signature is checked and runs the
sync app on the event loop, so this module puts a guard in front (size, UTF-8, shape)
and dispatches in a worker thread: a slow handler can never block another request's ack.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Sequence
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from slack_bolt import App, BoltRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api_schema import Health, Ingested, Problem, Rejected
from bot.jira_webhook import jira_webhook
from bot.openapi import build as openapi_document
from commands.context import AppContext
from workflows import json_input
from workflows.config import secret
from workflows.decisions.appeals import AppealIn
from workflows.decisions.errors import AppealRefused
from workflows.metrics import ERRORS, HTTP_REQUESTS, SIGNAL_BATCHES_REJECTED
from workflows.signals import MAX_BODY_BYTES as MAX_SIGNALS_BYTES
from workflows.signals import BatchRejected

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read at most ``limit`` bytes, trusting neither Content-Length nor its absence."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, reason: str) -> JSONResponse:
    return JSONResponse(Problem(error=reason).model_dump(), status_code=status)


async def _internal_error(_request: Request, _exc: Exception) -> Response:
    return error(500, "internal error")


async def _not_routed(request: Request, exc: Exception) -> Response:
    if getattr(exc, "status_code", 404) == 405:
        return error(405, f"{request.method} is not allowed on {request.url.path}")
    return error(404, f"no route {request.url.path}")


def check_slack_body(text: str, content_type: str) -> str | None:
    """None when Bolt can parse the body, else the reason it cannot."""
    if "application/json" in content_type:
        try:
            return None if isinstance(json_input.loads(text), dict) else "JSON body must be an object"
        except json_input.JsonInputError as exc:
            return f"body is {exc}"
    if "payload=" not in text:
        # Bolt reads other forms leniently (parse_qs), whatever their shape: nothing to
        # refuse, and parsing every slash command twice before the ack costs time.
        return None
    try:
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        return "body is not a valid form"
    if "payload" in form:
        try:
            if not isinstance(json_input.loads(form["payload"][0]), dict):
                return "payload must be a JSON object"
        except json_input.JsonInputError as exc:
            return f"payload is {exc}"
    return None


def check_slack_timestamp(headers: Headers) -> bool:
    """Whether X-Slack-Request-Timestamp, when sent, is a plain integer: anything else would
    make the signature check raise instead of refusing."""
    stamp = headers.get("x-slack-request-timestamp")
    return stamp is None or _TIMESTAMP.fullmatch(stamp) is not None


def receive_appeal(ctx: AppContext, raw: bytes) -> Response:
    """``POST /api/v1/appeals``: 201 ``{"case", "late"}`` for a new appeal, 200 for one already
    received (same ``appeal_id``), 400 naming the field, 404 with a reason for an unknown action."""
    assert ctx.appeals is not None
    try:
        body = AppealIn.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        return error(400, f"{field}: {str(first['msg']).removeprefix('Value error, ')}")
    try:
        receipt = ctx.appeals.receive(body)
    except AppealRefused as refused:
        reason = str(refused.fields.get("reason") or refused.code)
        body_out = {"ok": False, "error": refused.code, "reason": reason}
        return JSONResponse(body_out, status_code=refused.status)
    return JSONResponse(
        {"case": receipt.case_ref, "late": receipt.late}, status_code=201 if receipt.created else 200
    )


def create_http_app(ctx: AppContext, bolt: App | None, *, extra_routes: Sequence[Route] = ()) -> Starlette:
    """The HTTP app; ``bolt`` is None in Socket Mode, where Slack's requests arrive over the
    websocket and ``/slack/events`` is not routed at all (an HTTP request there is a 404)."""

    async def slack_events(request: Request) -> Response:
        try:
            raw = await read_body(request)
        except BodyTooLarge:
            return error(413, "body over 1 MB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return error(400, "body is not valid UTF-8")
        problem = check_slack_body(text, request.headers.get("content-type", ""))
        if problem:
            return error(400, problem)
        if not check_slack_timestamp(request.headers):
            return error(401, "invalid request: X-Slack-Request-Timestamp is not a Unix time")
        assert bolt is not None  # routed only when there is an app to dispatch to
        bolt_request = BoltRequest(body=text, query=request.url.query, headers=dict(request.headers))
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    async def signals(request: Request) -> Response:
        token = secret(ctx.settings.vigil_signals_token)
        if not token:
            return error(404, "the signals API is disabled: set VIGIL_SIGNALS_TOKEN to enable it")
        offered = request.headers.get("authorization", "")
        scheme, _, credential = offered.partition(" ")
        # Constant time: how much of a guess matched must not show in the response time.
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.encode(), token.encode()):
            SIGNAL_BATCHES_REJECTED.labels(status="401").inc()
            return error(401, "missing or wrong bearer token")
        try:
            raw = await read_body(request, MAX_SIGNALS_BYTES)
        except BodyTooLarge:
            SIGNAL_BATCHES_REJECTED.labels(status="413").inc()
            return error(413, f"body over {MAX_SIGNALS_BYTES // (1024 * 1024)} MB")
        try:
            result = await run_in_threadpool(ctx.signals.ingest_body, raw)
        except BatchRejected as rejected:
            SIGNAL_BATCHES_REJECTED.labels(status=str(rejected.status)).inc()
            return JSONResponse(
                Rejected.model_validate(rejected.to_dict()).body(), status_code=rejected.status
            )
        return JSONResponse(Ingested.model_validate(result.to_dict()).model_dump())

    async def appeals(request: Request) -> Response:
        token = secret(ctx.settings.vigil_appeals_token) or secret(ctx.settings.vigil_signals_token)
        if not token or ctx.appeals is None:
            return error(404, "the appeals API is disabled: set VIGIL_APPEALS_TOKEN (or VIGIL_SIGNALS_TOKEN)")
        offered = request.headers.get("authorization", "")
        scheme, _, credential = offered.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.encode(), token.encode()):
            return error(401, "missing or wrong bearer token")
        try:
            raw = await read_body(request)
        except BodyTooLarge:
            return error(413, "body over 1 MB")
        return await run_in_threadpool(receive_appeal, ctx, raw)

    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(ctx.db.ping)
        except Exception as exc:
            log.warning("health check: database unreachable", extra={"error": type(exc).__name__})
            return JSONResponse(
                Health(status="unhealthy", database="unreachable").model_dump(), status_code=503
            )
        return JSONResponse(Health(status="ok", database="ok").model_dump())

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def openapi(_request: Request) -> Response:
        return JSONResponse(openapi_document(slack=bolt is not None))

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/v1/signals", signals, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/v1/jira/webhook", jira_webhook(ctx), methods=["POST"]),
        Route("/api/v1/appeals", appeals, methods=["POST"]),
    ]
    if bolt is not None:
        routes.insert(0, Route("/slack/events", slack_events, methods=["POST"]))
    app = Starlette(
        routes=[*routes, *extra_routes],
        # Starlette answers an exception itself (then re-raises it to us): make that answer JSON.
        exception_handlers={404: _not_routed, 405: _not_routed, Exception: _internal_error},
    )
    known = {route.path for route in [*routes, *extra_routes]}
    return MetricsMiddleware(app, known)  # type: ignore[return-value]


class MetricsMiddleware:
    """Counts every response by route and status; turns an escaped exception into a JSON 500."""

    def __init__(self, app: ASGIApp, known_paths: set[str]) -> None:
        self.app = app
        self.known = known_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.known else "other"
        status = {"code": 500}
        sent = {"start": False, "end": False}
        started = time.perf_counter()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                sent["start"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                sent["end"] = True
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception:
            ERRORS.labels(where="http").inc()
            log.exception(
                "unhandled error serving HTTP",
                extra={"route": route, "response_started": sent["start"], "response_ended": sent["end"]},
            )
            # Only a client that has nothing yet gets the 500. A second response would make the
            # server drop the connection under the client's next keep-alive request; a complete
            # one stands as sent, and one cut off halfway is closed by the server.
            if not sent["start"]:
                await error(500, "internal error")(scope, receive, send)
        finally:
            HTTP_REQUESTS.labels(route=route, status=str(status["code"])).inc()
            log.debug(
                "http",
                extra={
                    "route": route,
                    "status": status["code"],
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

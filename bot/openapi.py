"""The OpenAPI 3.1 document of Vigil's own HTTP API, built from the models in bot/api_schema.py.

Served at ``/openapi.json`` and kept in docs/openapi.json (`vigil config openapi --write`);
tests/foundation/test_openapi.py fails when the routes bot/http.py mounts and the paths here
differ, or when the checked-in file is stale. OpenAPI 3.1 schemas are JSON Schema 2020-12,
which is what pydantic emits, so the models' schemas go in as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api_schema import Health, Ingested, Problem, Rejected, Signal, SignalBatch
from workflows.decisions.appeals import AppealIn
from workflows.signals.intake import MAX_BATCH

SLACK_PATH = "/slack/events"
JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    description: str
    model: type[BaseModel] | None = None
    media_type: str = JSON
    schema: dict[str, Any] | None = None  # for bodies that are not a model of ours (text, Bolt's)


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    operation_id: str
    summary: str
    description: str
    tag: str
    answers: dict[int, Answer]
    request: dict[str, Any] | None = None  # media type → schema (refs resolved in build())
    bearer: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# Requests are documented as pydantic validates them, answers as it serializes them.
_MODELS: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
    (Signal, "validation"),
    (SignalBatch, "validation"),
    (Problem, "serialization"),
    (Health, "serialization"),
    (Ingested, "serialization"),
    (Rejected, "serialization"),
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


_APPEAL_RECEIPT: dict[str, Any] = {
    "type": "object",
    "properties": {"case": {"type": "string", "examples": ["CASE-12"]}, "late": {"type": "boolean"}},
    "required": ["case", "late"],
}
_APPEAL_REFUSAL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string"},
        "reason": {"type": "string"},
    },
    "required": ["ok", "error"],
}

OPERATIONS: list[Operation] = [
    Operation(
        path=SLACK_PATH,
        method="post",
        operation_id="slackEvents",
        summary="Slack events, slash commands and interactivity",
        description="The one Request URL of the Slack app (HTTP mode; not routed in Socket Mode). "
        "Every request is checked against `SLACK_SIGNING_SECRET` and acked within Slack's 3 seconds; "
        "the work happens after the ack.",
        tag="slack",
        request={
            "application/x-www-form-urlencoded": {
                "type": "object",
                "description": "Slash commands; interactivity as a JSON `payload` field.",
                "additionalProperties": {"type": "string"},
            },
            JSON: {"type": "object", "description": "Events API callbacks and `url_verification`."},
        },
        answers={
            200: Answer(
                "Acked; the body is what Slack expects (empty, a challenge, or a view response).",
                media_type="*/*",
                schema={},
            ),
            400: Answer("Not UTF-8, unparseable, or JSON nested over 64 levels.", Problem),
            401: Answer(
                "Bad or stale signature, or a timestamp that is not a Unix time.", media_type="*/*", schema={}
            ),
            413: Answer("Body over 1 MB.", Problem),
        },
        extra={
            "parameters": [
                {"name": "X-Slack-Signature", "in": "header", "required": True, "schema": {"type": "string"}},
                {
                    "name": "X-Slack-Request-Timestamp",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,15}$"},
                },
            ]
        },
    ),
    Operation(
        path="/healthz",
        method="get",
        operation_id="health",
        summary="Liveness and database reachability",
        description="For load balancers and container healthchecks.",
        tag="operations",
        answers={
            200: Answer("Vigil can serve.", Health),
            503: Answer("The database is unreachable.", Health),
        },
    ),
    Operation(
        path="/metrics",
        method="get",
        operation_id="metrics",
        summary="Prometheus metrics",
        description="Every metric is declared in workflows/metrics.py; see docs/deploy.md for alerts.",
        tag="operations",
        answers={
            200: Answer(
                "Prometheus text exposition format.",
                media_type="text/plain; version=0.0.4; charset=utf-8",
                schema={"type": "string"},
            )
        },
    ),
    Operation(
        path="/api/v1/signals",
        method="post",
        operation_id="ingestSignals",
        summary="Send abuse signals (telemetry and reports)",
        description=f'At most {MAX_BATCH:,} signals, as `{{"signals": [...]}}` or a bare array; the '
        "batch is stored whole or not at all. Every `type: report` also becomes a report.",
        tag="signals",
        bearer=True,
        request={
            JSON: {
                "oneOf": [
                    _ref(SignalBatch),
                    {"type": "array", "items": _ref(Signal), "maxItems": MAX_BATCH},
                ]
            }
        },
        answers={
            200: Answer("Stored.", Ingested),
            400: Answer('Malformed JSON (or nested over 64 levels), or not {"signals": [...]}.', Rejected),
            401: Answer("Missing or wrong bearer token.", Problem),
            404: Answer("`VIGIL_SIGNALS_TOKEN` is not set: the endpoint is disabled.", Problem),
            413: Answer(f"More than {MAX_BATCH:,} signals, or a body over 64 MB.", Rejected),
            422: Answer("Some rows are invalid (listed, 0-based); nothing was stored.", Rejected),
        },
    ),
    Operation(
        path="/api/v1/jira/webhook",
        method="post",
        operation_id="jiraWebhook",
        summary="Jira tells Vigil a hand-off's ticket moved",
        description="A Jira issue event (`{issue: {key, fields: {status: {name}}}}`), signed with "
        "`X-Hub-Signature: sha256=<HMAC of the body>` or carrying `?secret=`, both with "
        "`VIGIL_JIRA_WEBHOOK_SECRET`. The hand-off's Slack thread is told of In Progress and Done.",
        tag="handoff",
        request={JSON: {"type": "object"}},
        answers={
            200: Answer(
                "The event was read; `changed` says whether a hand-off's status moved.",
                schema={
                    "type": "object",
                    "properties": {
                        "ticket": {"type": "string"},
                        "status": {"type": "string"},
                        "changed": {"type": "boolean"},
                    },
                    "required": ["ticket", "status", "changed"],
                },
            ),
            400: Answer("Not a Jira issue event.", Problem),
            401: Answer("Missing or wrong webhook secret.", Problem),
            404: Answer("The hand-off to Jira is not configured at all.", Problem),
            413: Answer("A body over 1 MB.", Problem),
        },
    ),
    Operation(
        path="/api/v1/appeals",
        method="post",
        operation_id="receiveAppeal",
        summary="A user's appeal against a suspension (DSA Art. 20)",
        description="The platform sends the appeal; Vigil opens a case of category `appeal` linked to "
        "the action it contests (docs/dsa.md). Bearer `VIGIL_APPEALS_TOKEN`, else the signals token.",
        tag="appeals",
        bearer=True,
        request={JSON: AppealIn.model_json_schema()},
        answers={
            201: Answer("A new appeal: its case.", schema=_APPEAL_RECEIPT),
            200: Answer("The same `appeal_id` was received before: its case.", schema=_APPEAL_RECEIPT),
            400: Answer("A field is invalid (named).", Problem),
            401: Answer("Missing or wrong bearer token.", Problem),
            404: Answer(
                "The appeals API is disabled, or the action appealed is unknown (with a reason).",
                schema=_APPEAL_REFUSAL,
            ),
            409: Answer("The appeal cannot be taken (with a reason).", schema=_APPEAL_REFUSAL),
            413: Answer("A body over 1 MB.", Problem),
        },
    ),
    Operation(
        path="/openapi.json",
        method="get",
        operation_id="openapi",
        summary="This document",
        description="The OpenAPI 3.1 document of this API.",
        tag="operations",
        answers={200: Answer("The document.", schema={"type": "object"})},
    ),
]


def _version() -> str:
    try:
        return version("vigil")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0"


def _operation(op: Operation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
        **op.extra,
    }
    if op.request is not None:
        body["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media, schema in op.request.items()},
        }
    if op.bearer:
        body["security"] = [{"signalsToken": []}]
    responses: dict[str, Any] = {}
    for status, answer in sorted(op.answers.items()):
        schema = _ref(answer.model) if answer.model is not None else answer.schema
        responses[str(status)] = {
            "description": answer.description,
            "content": {answer.media_type: {"schema": schema if schema is not None else {}}},
        }
    body["responses"] = responses
    return body


@cache
def build(slack: bool = True) -> dict[str, Any]:
    """The document; ``slack=False`` leaves out /slack/events (Socket Mode does not route it)."""
    _, schemas = models_json_schema(_MODELS, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        if op.path == SLACK_PATH and not slack:
            continue
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vigil HTTP API",
            "version": _version(),
            "description": "Vigil's own HTTP surface: the Slack Request URL, health, metrics and the "
            "platform's signals API. The enforcement API Vigil calls is described in docs/api.md.",
        },
        "tags": [
            {"name": "signals", "description": "For the platform team."},
            {"name": "operations", "description": "Health, metrics and this document."},
            {"name": "slack", "description": "Called by Slack only."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "signalsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The value of `VIGIL_SIGNALS_TOKEN`.",
                }
            },
        },
    }


def render() -> str:
    """docs/openapi.json: the full document (HTTP mode), stable key order, one trailing newline."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"

"""The platform team builds its client from /openapi.json: the document lists exactly the routes
Vigil mounts, every answer Vigil gives matches the schema the document promises for its status,
and docs/openapi.json is the same document, checked in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from pydantic import SecretStr
from starlette.routing import Route

from bot import openapi
from bot.api_schema import Signal
from bot.cli import main
from bot.http import create_http_app
from tests.harness.vigil import Vigil
from workflows.config import Settings
from workflows.signals.intake import FIELDS, MAX_ID, RowValidator

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_JSON = ROOT / "docs" / "openapi.json"
TOKEN = "sig-openapi-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"vigil_signals_token": SecretStr(TOKEN)})


def mounted(app: Any) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for route in app.app.routes:  # create_http_app wraps the Starlette app in its metrics middleware
        assert isinstance(route, Route)
        routes.setdefault(route.path, set()).update(m.lower() for m in route.methods or () if m != "HEAD")
    return routes


def documented(document: dict[str, Any]) -> dict[str, set[str]]:
    return {path: set(item) for path, item in document["paths"].items()}


def check_answer(document: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    """The body Vigil sent is valid against the schema documented for that path and status."""
    answers = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in answers, f"{method} {path} answered {status}, which the document does not list"
    content = answers[status]["content"]
    media, spec = next(iter(content.items()))
    if media.startswith("application/json"):
        schema = {**spec["schema"], "components": document["components"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.json())]
        assert not errors, (path, response.status_code, errors)


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi.build()
    assert document["openapi"].startswith("3.1")
    validate_spec(document)
    validate_spec(openapi.build(slack=False))


def test_the_checked_in_document_is_current(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "openapi", "--check", "--file", str(OPENAPI_JSON)])
    assert result.exit_code == 0, result.output
    assert json.loads(OPENAPI_JSON.read_text(encoding="utf-8")) == openapi.build()

    stale = tmp_path / "openapi.json"
    stale.write_text(OPENAPI_JSON.read_text(encoding="utf-8").replace("/api/v1/signals", "/api/v0/signals"))
    result = CliRunner().invoke(main, ["config", "openapi", "--check", "--file", str(stale)])
    assert result.exit_code == 1
    assert "vigil config openapi --write" in result.output


def test_the_document_lists_exactly_the_routes_vigil_mounts(vigil: Vigil) -> None:
    http_mode = vigil.server.server.config.app  # the app this Vigil is serving
    assert mounted(http_mode) == documented(openapi.build(slack=True))
    socket_mode = create_http_app(vigil.ctx, None)
    assert mounted(socket_mode) == documented(openapi.build(slack=False))
    assert "/slack/events" not in mounted(socket_mode)


def test_vigil_serves_the_document(vigil: Vigil) -> None:
    response = httpx.get(f"{vigil.server.url}/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi.build()
    check_answer(openapi.build(), "/openapi.json", "get", response)


def test_every_answer_of_the_signals_api_matches_the_document(vigil: Vigil) -> None:
    document = openapi.build()
    url = f"{vigil.server.url}/api/v1/signals"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    good = {
        "id": "evt-1",
        "type": "send_velocity",
        "account_id": "acct_4471",
        "occurred_at": vigil.clock.now().isoformat(),
        "value": 42,
        "attributes": {"country": "NG"},
    }
    answers = [
        httpx.post(url, json={"signals": [good]}, headers=auth),
        httpx.post(url, json=[good], headers=auth),  # a bare array, a duplicate now
        httpx.post(url, json={"signals": [good, {"type": "nope", "account_id": "x y"}]}, headers=auth),
        httpx.post(url, content=b"{not json", headers=auth),
        httpx.post(url, json={"signals": [good] * 10_001}, headers=auth),
        httpx.post(url, json={"signals": [good]}, headers={"Authorization": "Bearer wrong"}),
    ]
    assert [a.status_code for a in answers] == [200, 200, 422, 400, 413, 401]
    assert answers[1].json()["duplicates"] == 1
    for answer in answers:
        check_answer(document, "/api/v1/signals", "post", answer)


def test_health_and_metrics_match_the_document(vigil: Vigil) -> None:
    document = openapi.build()
    health = httpx.get(f"{vigil.server.url}/healthz")
    assert health.status_code == 200
    check_answer(document, "/healthz", "get", health)
    metrics = httpx.get(f"{vigil.server.url}/metrics")
    assert metrics.status_code == 200 and "vigil_http_requests_total" in metrics.text


def test_slack_refusals_match_the_document(vigil: Vigil) -> None:
    document = openapi.build()
    refused = [
        vigil.send.post("x" * (1024 * 1024 + 1), "application/x-www-form-urlencoded"),
        vigil.send.post("[1, 2]", "application/json"),
    ]
    assert [r.status_code for r in refused] == [413, 400]
    for response in refused:
        check_answer(document, "/slack/events", "post", response)


def test_the_signal_schema_states_the_rules_the_validator_applies(vigil: Vigil) -> None:
    # The rows are checked by the hand-written RowValidator (fast, with documented texts); the
    # model clients read must name the same fields and limits, and its examples must pass it.
    assert set(Signal.model_fields) == FIELDS
    id_schema = Signal.model_json_schema()["properties"]["id"]["anyOf"][0]
    assert id_schema["maxLength"] == MAX_ID
    example = {name: field.examples[0] for name, field in Signal.model_fields.items() if field.examples}
    example["occurred_at"] = vigil.clock.now().isoformat()
    assert isinstance(RowValidator(vigil.ctx.config, vigil.clock.now())(example), dict)
    assert Signal.model_validate(example)

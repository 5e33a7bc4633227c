"""A careless or hostile client sends whatever the document allows, and much it does not:
schemathesis generates requests from Vigil's OpenAPI document against a running Vigil. No
answer is a 500, every status is one the document lists, and every body matches its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot import openapi
from tests.harness.vigil import Vigil
from workflows.config import Settings

TOKEN = "sig-fuzz-token"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"vigil_signals_token": SecretStr(TOKEN)})


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_500_or_an_undocumented_answer(
    vigil: Vigil, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_dict(openapi.build())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == set(openapi.build()["paths"])
    calls: list[int] = []
    document = openapi.build()
    for operation in operations:
        spec = document["paths"][operation.path][operation.method.lower()]
        if mode is GenerationMode.NEGATIVE and not ("requestBody" in spec or spec.get("parameters")):
            continue  # nothing a client sends there can be wrong: GET /healthz takes no input

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def exchange(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=vigil.server.url, headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS
            )
            calls.append(response.status_code)

        exchange()
    assert calls and max(calls) < 500
    if mode is GenerationMode.NEGATIVE:
        assert any(400 <= status < 500 for status in calls), "invalid input was refused, as a 4xx"

"""The AI stories' pieces: a local OpenAI-compatible fake over real HTTP (no key, no
internet) and a gateway wired to it, on the test's database and clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.fakes.openai import FakeOpenAI
from bot.gateways.openai import OpenAIModel
from store.db import Database
from workflows.ai import AiGateway, Assistant
from workflows.clock import FixedClock
from workflows.config import AiSettings, VigilConfig

ACCOUNT_PATTERN = re.compile(r"^acct_[0-9a-z]+$")


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(hold_seconds=3.0).start()
    yield fake
    fake.stop()


GatewayFactory = Callable[..., AiGateway]


@pytest.fixture
def make_gateway(db: Database, clock: FixedClock, fake_openai: FakeOpenAI) -> GatewayFactory:
    def make(*, offline: bool = False, **settings: object) -> AiGateway:
        values: dict[str, object] = {"timeout": timedelta(seconds=1)}
        values.update(settings)
        model = None if offline else OpenAIModel("test-key-not-real", fake_openai.url)
        return AiGateway(
            db,
            clock,
            AiSettings.model_validate(values),
            model,
            default_model="fake-model",
            account_pattern=ACCOUNT_PATTERN,
        )

    return make


@pytest.fixture
def assistant(
    db: Database, clock: FixedClock, make_gateway: GatewayFactory, config: VigilConfig
) -> Assistant:
    return Assistant(db, clock, make_gateway())

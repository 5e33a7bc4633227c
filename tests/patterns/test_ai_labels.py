"""With a model configured, a new pattern is named by it (redacted like every call); when the
model answers garbage the pattern keeps its top terms. Offline stories are in test_patterns."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bot.fakes.openai import FakeOpenAI, SeenRequest, example_of
from tests.harness.vigil import Vigil
from tests.patterns.test_patterns import campaign, noise, send_reports, stored
from workflows.config import Settings

LABEL = "Crypto doubling giveaway"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(hold_seconds=1.0).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(settings: Settings, fake_openai: FakeOpenAI) -> Settings:
    return settings.model_copy(
        update={
            "openai_api_key": SecretStr("sk-test-not-real"),
            "openai_base_url": fake_openai.url,
            "vigil_ai_model": "fake-model",
        }
    )


def answer(seen: SeenRequest) -> dict[str, Any]:
    if "label" in seen.schema.get("properties", {}):
        return {"label": LABEL}
    return example_of(seen.schema)


def label_requests(fake: FakeOpenAI) -> list[SeenRequest]:
    return [r for r in fake.requests if "label" in r.schema.get("properties", {})]


def test_the_model_names_a_new_campaign_from_its_examples(vigil: Vigil, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = answer
    rng = random.Random(1)
    send_reports(vigil, campaign(rng, 8) + noise(rng, 40))
    vigil.ctx.patterns.detect()
    assert stored(vigil)[0].label == LABEL
    asked = label_requests(fake_openai)
    assert len(asked) == 1
    assert "acct_btc_" not in str(asked[0].body)  # account ids never leave

    vigil.ctx.patterns.detect()  # a known pattern is not named again
    assert len(label_requests(fake_openai)) == 1


def test_a_garbage_answer_leaves_the_top_terms(vigil: Vigil, fake_openai: FakeOpenAI) -> None:
    fake_openai.mode = "garbage"
    rng = random.Random(1)
    send_reports(vigil, campaign(rng, 8) + noise(rng, 40))
    vigil.ctx.patterns.detect()
    label = stored(vigil)[0].label
    assert label != LABEL and "giveaway" in label  # its top terms, offline

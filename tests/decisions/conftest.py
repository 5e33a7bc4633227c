"""A deployment that owes statements of reasons: a `dsa:` section, and the Transparency
Database (the fake, over real HTTP) configured with VIGIL_DSA_URL and VIGIL_DSA_TOKEN."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bot.fakes.dsa import FakeTransparencyDatabase
from bot.fakes.slack import FakeSlack
from tests.harness.world import BOT_TOKEN, SIGNING_SECRET, config_data
from workflows.config import Settings, VigilConfig, parse_config

APPEALS_TOKEN, SIGNALS_TOKEN = "appeals-test-token", "signals-test-token"


def dsa_config_data(**dsa: Any) -> dict[str, Any]:
    data = config_data()
    data["dsa"] = {
        "categories": {
            "spam": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
            "fraud": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "phishing": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "harassment": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "ban_evasion": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
            "payment_abuse": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "other": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        },
        "illegal": {"fraud": "Section 263 StGB (fraud)"},
        "territorial_scope": ["DE", "FR", "NL"],
        "submit": True,
    } | dsa
    return data


@pytest.fixture
def dsa_database() -> Iterator[FakeTransparencyDatabase]:
    fake = FakeTransparencyDatabase().start()
    yield fake
    fake.stop()


@pytest.fixture
def config() -> VigilConfig:
    return parse_config(dsa_config_data())


@pytest.fixture
def settings(fake_slack: FakeSlack, dsa_database: FakeTransparencyDatabase) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        slack_files_url=f"{fake_slack.base_url}/",
        vigil_database_url="sqlite:///unused.db",
        vigil_enforcement_url=None,
        vigil_dsa_url=dsa_database.url,
        vigil_dsa_token=SecretStr(dsa_database.token),
        vigil_signals_token=SecretStr(SIGNALS_TOKEN),
        vigil_appeals_token=SecretStr(APPEALS_TOKEN),
    )

"""The gateway against a local OpenAI-compatible fake over real HTTP: a good answer is parsed
and recorded; garbage, a wrong shape, a timeout, 429 and 500 fall back and say so; the daily
budget holds; what reaches the model carries placeholders, never the personal data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pydantic import BaseModel

from bot.fakes.openai import FakeOpenAI
from store import ai as store
from store.db import Database
from tests.ai.conftest import GatewayFactory
from workflows.ai import Summary, redact
from workflows.ai.redact import PLACEHOLDER
from workflows.clock import FixedClock

PII_TEXT = (
    "Guest jane.doe@example.com (+44 20 7946 0958) says host acct_77aa charged card "
    "4111 1111 1111 1111 from 203.0.113.7; see https://pay.example/checkout?session=s3cr3t. "
    "<@U0ANA0001> please look."
)


def calls(db: Database) -> list[store.AiCall]:
    with db.read() as session:
        return list(reversed(store.recent_calls(session, 50)))


def test_a_structured_answer_is_parsed_restored_and_recorded(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db: Database
) -> None:
    fake_openai.responder = lambda seen: {
        "summary": "Guest <EMAIL_1> reports <ACCOUNT_1> for a card charge.",
        "key_facts": ["Card <CARD_1> was used"],
        "open_questions": [],
        "next_step": "Investigate <ACCOUNT_1>.",
    }
    gateway = make_gateway()
    result = gateway.ask(
        "summarize",
        Summary,
        texts={"material": PII_TEXT},
        context={"subject_kind": "case", "ref": "CASE-1", "category": "c", "priority": "P2", "status": "new"},
        subject="CASE-1",
    )

    assert result.ok and result.fallback is None
    assert result.value is not None
    assert result.value.summary == "Guest jane.doe@example.com reports acct_77aa for a card charge."
    assert result.value.key_facts == ["Card 4111 1111 1111 1111 was used"]
    [call] = calls(db)
    assert (call.task, call.outcome, call.model, call.subject) == ("summarize", "ok", "fake-model", "CASE-1")
    assert (call.tokens_in, call.tokens_out) == (120, 40)
    assert re.fullmatch(r"[0-9a-f]{16}", call.template_hash)


def test_no_placeholder_free_personal_data_reaches_the_model(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI
) -> None:
    make_gateway().ask(
        "summarize",
        Summary,
        texts={"material": PII_TEXT},
        context={"subject_kind": "case", "ref": "CASE-1", "category": "c", "priority": "P2", "status": "new"},
    )

    [seen] = fake_openai.requests
    sent = seen.text
    found = redact(PII_TEXT, account_pattern=re.compile(r"^acct_[0-9a-z]+$"))
    assert {s.kind for s in found.spans} >= {"EMAIL", "PHONE", "ACCOUNT", "CARD", "IP", "URL_QUERY", "USER"}
    for span in found.spans:
        assert span.value not in sent, span
    for value in ("jane.doe", "7946", "4111", "203.0.113.7", "s3cr3t", "U0ANA0001", "acct_77aa"):
        assert value not in sent
    assert {"<EMAIL_1>", "<PHONE_1>", "<ACCOUNT_1>", "<CARD_1>", "<IP_1>", "<USER_1>"} <= set(
        PLACEHOLDER.findall(sent) and [m.group(0) for m in PLACEHOLDER.finditer(sent)]
    )


def ask(gateway_factory: GatewayFactory, **settings: object) -> object:
    return gateway_factory(**settings).ask(
        "summarize",
        Summary,
        texts={"material": "A host keeps cancelling bookings at the last minute."},
        context={"subject_kind": "case", "ref": "CASE-2", "category": "c", "priority": "P3", "status": "new"},
    )


def test_garbage_and_a_wrong_shape_fall_back_as_malformed(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db: Database
) -> None:
    for mode in ("garbage", "wrong_shape"):
        fake_openai.mode = mode
        result = ask(make_gateway)
        assert result.value is None  # type: ignore[attr-defined]
        assert result.fallback == "malformed"  # type: ignore[attr-defined]
        assert "could not read" in result.fallback_words  # type: ignore[attr-defined]
    assert [c.outcome for c in calls(db)] == ["malformed", "malformed"]
    # The tokens a bad answer cost still count against the budget.
    assert all(c.tokens_in == 120 for c in calls(db))


def test_a_model_that_times_out_or_is_overloaded_falls_back(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db: Database
) -> None:
    outcomes = {}
    for mode in ("timeout", "429", "500"):
        fake_openai.mode = mode
        result = ask(make_gateway, timeout=timedelta(milliseconds=300))
        outcomes[mode] = result.fallback  # type: ignore[attr-defined]
    assert outcomes == {"timeout": "timeout", "429": "rate_limited", "500": "server_error"}
    assert [c.outcome for c in calls(db)] == ["timeout", "rate_limited", "server_error"]
    assert len(fake_openai.requests) == 3  # the client made no retries of its own


def test_the_daily_budget_is_spent_by_noon_and_back_the_next_day(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db: Database, clock: FixedClock
) -> None:
    # 160 tokens a call (120 in, 40 out); a prompt estimates at ~250: two calls fit in 600.
    clock.set(clock.now().replace(hour=9))
    results = [ask(make_gateway, daily_token_budget=600) for _ in range(3)]
    assert [r.fallback for r in results] == [None, None, "budget_exhausted"]  # type: ignore[attr-defined]
    clock.set(clock.now().replace(hour=12))
    assert ask(make_gateway, daily_token_budget=600).fallback == "budget_exhausted"  # type: ignore[attr-defined]
    assert len(fake_openai.requests) == 2  # the refused calls never left Vigil
    assert [c.outcome for c in calls(db)][-2:] == ["budget_exhausted", "budget_exhausted"]

    clock.advance(timedelta(days=1))
    assert ask(make_gateway, daily_token_budget=600).fallback is None  # type: ignore[attr-defined]


def test_no_model_configured_is_offline_and_records_no_call(
    make_gateway: GatewayFactory, db: Database
) -> None:
    result = ask(make_gateway, offline=True)
    assert result.fallback == "not_configured"  # type: ignore[attr-defined]
    assert result.fallback_words == "no AI configured"  # type: ignore[attr-defined]
    assert calls(db) == []


def test_a_40k_character_text_is_cut_and_says_so(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI
) -> None:
    text = "The host asked guests to pay outside the platform. " * 800  # ~41k characters
    result = make_gateway(max_input_chars=8000).ask(
        "summarize",
        Summary,
        texts={"material": text},
        context={"subject_kind": "case", "ref": "CASE-3", "category": "c", "priority": "P3", "status": "new"},
    )
    assert result.truncated == f"cut from {len(text):,} to 8,000 characters"
    [seen] = fake_openai.requests
    assert len(seen.messages[1]["content"]) < 9000
    assert "characters cut" in seen.messages[1]["content"]


def test_the_prompt_hash_changes_with_the_template(make_gateway: GatewayFactory, db: Database) -> None:
    ask(make_gateway)

    class Other(BaseModel):
        sentences: list[str]

    make_gateway().ask("digest_narrative", Other, texts={}, context={"week": "2026-W48", "figures": []})
    first, second = calls(db)
    assert first.template_hash != second.template_hash


def test_a_pattern_label_is_the_models_or_the_top_terms(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db: Database, clock: FixedClock
) -> None:
    from workflows.ai import Assistant

    fake_openai.responder = lambda seen: {"label": "Off-platform wire payment requests"}
    examples = ["Host acct_1 wants a wire to jane@example.com", "Host acct_2 asks for a wire transfer"]
    labelled = Assistant(db, clock, make_gateway()).label_pattern(["wire", "transfer", "host"], examples)
    assert (labelled.label, labelled.by.ai) == ("Off-platform wire payment requests", True)
    assert "jane@example.com" not in fake_openai.requests[0].text

    offline = Assistant(db, clock, make_gateway(offline=True)).label_pattern(
        ["wire", "transfer", "host"], examples
    )
    assert (offline.label, offline.by.ai, offline.by.fallback) == (
        "wire / transfer / host",
        False,
        "no AI configured",
    )


def test_the_ai_config_section_is_checked_naming_the_key() -> None:
    from tests.harness.world import config_data
    from workflows.config import ConfigError, parse_config

    data = config_data()
    data["ai"] = {"tasks": {"summarize": {"model": "small", "timeout": "30s"}}, "daily_token_budget": 5000}
    config = parse_config(data)
    assert config.ai.tasks["summarize"].timeout == timedelta(seconds=30)
    for bad, where in (
        ({"tasks": {"translate": {}}}, "ai.tasks"),
        ({"timeout": "soon"}, "ai.timeout"),
        ({"daily_token_budget": -1}, "ai.daily_token_budget"),
    ):
        data["ai"] = bad
        with pytest.raises(ConfigError, match=re.escape(where)):
            parse_config(data)

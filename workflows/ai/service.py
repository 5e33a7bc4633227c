"""The AI gateway: every call to the language model goes through ``AiGateway.ask``, which
redacts what leaves, cuts what is too long, keeps the daily token budget, records the call
(``ai_calls`` and Prometheus) and turns every failure into a named fallback.

Callers always get an ``AiResult``: a parsed value with placeholders restored, or the reason
the offline path must answer instead. Nothing here decides anything: the features built on
it (summaries, triage suggestions, digest narrative) only suggest and summarise.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

import prompts
from store import ai as store
from store.db import Database
from workflows.ai.ports import FailureReason, LanguageModel, ModelFailure
from workflows.ai.redact import Redactor
from workflows.clock import Clock
from workflows.config import AiSettings
from workflows.metrics import AI_CALLS, AI_FALLBACKS, AI_TOKENS

T = TypeVar("T", bound=BaseModel)

SYSTEM_TEMPLATE = "system.j2"
# A rough count (4 characters a token) to refuse a call that would cross the budget before
# it is made; the recorded figures are the ones the endpoint reports.
CHARS_PER_TOKEN = 4

FALLBACK_WORDS: dict[str, str] = {
    "not_configured": "no AI configured",
    "budget_exhausted": "the daily AI token budget is spent",
    "timeout": "the AI model timed out",
    "rate_limited": "the AI endpoint is rate limiting",
    "server_error": "the AI endpoint failed",
    "malformed": "the AI model gave an answer Vigil could not read",
    "error": "the AI call failed",
}


@dataclass(frozen=True)
class AiResult(Generic[T]):
    """``value`` when the model answered (placeholders restored), else ``fallback`` says why."""

    value: T | None
    fallback: FailureReason | None = None
    truncated: str | None = None  # "cut from 40,000 to 12,000 characters"
    model: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def fallback_words(self) -> str | None:
        return FALLBACK_WORDS.get(self.fallback) if self.fallback else None


def cut(text: str, limit: int) -> tuple[str, bool]:
    """At most ``limit`` characters: the head and the tail (where a thread's latest word is)."""
    if len(text) <= limit:
        return text, False
    marker = f"\n[… {len(text) - limit:,} characters cut …]\n"
    keep = max(0, limit - len(marker))
    head = keep * 2 // 3
    return text[:head] + marker + text[len(text) - (keep - head) :], True


class AiGateway:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: AiSettings,
        model: LanguageModel | None,
        *,
        default_model: str | None = None,
        account_pattern: re.Pattern[str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.model = model
        self.default_model = default_model
        self.account_pattern = account_pattern
        self.monotonic = monotonic

    @property
    def configured(self) -> bool:
        return self.model is not None

    def model_for(self, task: str) -> str:
        chosen = self.settings.tasks.get(task)
        return (chosen and chosen.model) or self.settings.model or self.default_model or "gpt-4o-mini"

    def timeout_for(self, task: str) -> float:
        chosen = self.settings.tasks.get(task)
        return ((chosen and chosen.timeout) or self.settings.timeout).total_seconds()

    def ask(
        self,
        task: str,
        schema: type[T],
        *,
        texts: dict[str, str],
        context: dict[str, Any] | None = None,
        known_accounts: Iterable[str] = (),
        subject: str | None = None,
    ) -> AiResult[T]:
        """Render ``prompts/<task>.j2`` with ``context`` and the redacted ``texts`` and ask the
        model for a ``schema``. ``texts`` is everything user-written: only it is redacted and
        cut, so keep figures and labels in ``context``."""
        if self.model is None:
            return self._fallback(task, "not_configured")
        redactor = Redactor(account_pattern=self.account_pattern, known_accounts=known_accounts)
        share = self.settings.max_input_chars // max(1, len(texts))
        variables = dict(context or {})
        cut_from = 0
        for name, text in texts.items():
            kept, was_cut = cut(text, share)
            if was_cut:
                cut_from += len(text)
            variables[name] = redactor.redact(kept).text
        truncated = (
            f"cut from {cut_from:,} to {self.settings.max_input_chars:,} characters" if cut_from else None
        )
        template = f"{task}.j2"
        system = prompts.render(SYSTEM_TEMPLATE, schema=json.dumps(schema.model_json_schema()))
        prompt = prompts.render(template, truncated=truncated, **variables)
        template_hash = prompts.source_hash(SYSTEM_TEMPLATE, template)
        model = self.model_for(task)
        now = self.clock.now()
        estimate = (len(system) + len(prompt)) // CHARS_PER_TOKEN
        with self.db.read() as session:
            used = store.tokens_since(session, _day_start(now))
        if used + estimate > self.settings.daily_token_budget:
            self._record(task, template_hash, model, 0, 0, 0, "budget_exhausted", f"{used} used", subject)
            return self._fallback(task, "budget_exhausted", truncated)
        started = self.monotonic()
        try:
            answer = self.model.complete(
                model=model, system=system, prompt=prompt, schema=schema, timeout=self.timeout_for(task)
            )
        except ModelFailure as failure:
            latency = int((self.monotonic() - started) * 1000)
            self._record(
                task,
                template_hash,
                model,
                failure.tokens_in,
                failure.tokens_out,
                latency,
                failure.reason,
                failure.detail[:500],
                subject,
            )
            return self._fallback(task, failure.reason, truncated)
        latency = int((self.monotonic() - started) * 1000)
        self._record(
            task,
            template_hash,
            answer.model,
            answer.tokens_in,
            answer.tokens_out,
            latency,
            "ok",
            None,
            subject,
        )
        restored = schema.model_validate(_restore(answer.value.model_dump(), redactor))
        return AiResult(restored, truncated=truncated, model=answer.model)

    def _fallback(self, task: str, reason: FailureReason, truncated: str | None = None) -> AiResult[Any]:
        AI_FALLBACKS.labels(task=task, reason=reason).inc()
        return AiResult(None, fallback=reason, truncated=truncated)

    def _record(
        self,
        task: str,
        template_hash: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        latency_ms: int,
        outcome: str,
        detail: str | None,
        subject: str | None,
    ) -> None:
        with self.db.transaction() as session:
            store.add_call(
                session,
                at=self.clock.now(),
                task=task,
                template_hash=template_hash,
                model=model[:100],
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                latency_ms=latency_ms,
                outcome=outcome,
                detail=detail,
                subject=subject,
            )
        AI_CALLS.labels(task=task, outcome=outcome).inc()
        AI_TOKENS.labels(direction="in").inc(tokens_in)
        AI_TOKENS.labels(direction="out").inc(tokens_out)


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _restore(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.restore(value)
    if isinstance(value, list):
        return [_restore(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v, redactor) for k, v in value.items()}
    return value


__all__ = ["AiGateway", "AiResult", "cut"]

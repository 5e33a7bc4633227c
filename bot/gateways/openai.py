"""The language model port (workflows/ai/ports.py) over any OpenAI-compatible endpoint, with
the official ``openai`` client.

Structured output is asked for as a JSON schema (``response_format``) and parsed with the
caller's pydantic model; an endpoint that ignores the schema and answers something else is
``malformed``, not an error Vigil crashes on. The client never retries by itself
(``max_retries=0``): a retry is another call the budget and the ledger must see.
"""

from __future__ import annotations

from typing import TypeVar

import openai
from pydantic import BaseModel, ValidationError

from workflows.ai.ports import Completion, ModelFailure

T = TypeVar("T", bound=BaseModel)


class OpenAIModel:
    def __init__(self, api_key: str, base_url: str | None = None) -> None:
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0)

    def complete(
        self, *, model: str, system: str, prompt: str, schema: type[T], timeout: float
    ) -> Completion[T]:
        try:
            response = self.client.chat.completions.create(
                model=model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
                },
                temperature=0,
                timeout=timeout,
            )
        except openai.APITimeoutError as exc:
            raise ModelFailure("timeout", str(exc)) from None
        except openai.RateLimitError as exc:
            raise ModelFailure("rate_limited", str(exc)) from None
        except openai.APIStatusError as exc:
            reason = "server_error" if exc.status_code >= 500 else "error"
            raise ModelFailure(reason, f"HTTP {exc.status_code}") from None
        except openai.APIConnectionError as exc:
            raise ModelFailure("server_error", f"connection: {exc}") from None
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise ModelFailure("malformed", "empty answer", tokens_in, tokens_out)
        try:
            value = schema.model_validate_json(_unfenced(content))
        except ValidationError as exc:
            raise ModelFailure(
                "malformed", f"{exc.error_count()} problem(s): {content[:200]}", tokens_in, tokens_out
            ) from None
        return Completion(value, response.model or model, tokens_in, tokens_out)


def _unfenced(content: str) -> str:
    """Some endpoints wrap JSON in a Markdown code fence even when asked not to."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text

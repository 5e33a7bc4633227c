"""Benchmark (not a test): what the AI gateway costs on top of the model call.

    python bench/ai.py [--texts 10000] [--calls 200]

1. Redaction: ``--texts`` synthetic report texts (each with an email, a phone number, a
   card, an IP, a URL with a query, a mention and account ids, ~300 characters) through
   ``workflows.ai.redact``: texts per second and MB/s.
2. Gateway overhead: ``--calls`` summarise calls through ``AiGateway.ask`` (redaction,
   Jinja2 rendering, budget read, ledger write on SQLite, restore) against the local fake
   over HTTP, interleaved with the same number of bare ``openai`` client calls with the
   same prompt to the same fake; the median of each and their difference.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openai

from bot.fakes.openai import FakeOpenAI
from bot.gateways.openai import OpenAIModel
from store import migrate
from store.db import Database
from workflows.ai import AiGateway, Summary, redact
from workflows.clock import SystemClock
from workflows.config import AiSettings, EnforcementSettings

WORDS = [
    "host",
    "guest",
    "booking",
    "payment",
    "wire",
    "transfer",
    "outside",
    "platform",
    "cancelled",
    "refund",
    "listing",
    "photos",
]


def text(rng: random.Random, i: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(25))
    return (
        f"Guest user{i}@example.com (+44 20 7946 {i % 10000:04d}) reports host acct_{i} {body}. "
        f"Card 4111 1111 1111 1111 used from 203.0.{i % 250}.7, see https://pay.example/c?s={i}. "
        f"<@U0ANA{i % 1000:04d}> please look."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = [text(rng, i) for i in range(args.texts)]
    pattern = EnforcementSettings().account_id_regex()

    started = time.perf_counter()
    placeholders = 0
    for t in texts:
        placeholders += len(redact(t, account_pattern=pattern).spans)
    seconds = time.perf_counter() - started
    size = sum(len(t) for t in texts) / 1e6
    print(
        f"redaction: {args.texts} texts ({size:.1f} MB) in {seconds:.2f} s: "
        f"{args.texts / seconds:,.0f} texts/s, {size / seconds:.2f} MB/s, "
        f"{placeholders / args.texts:.1f} values/text"
    )

    fake = FakeOpenAI(
        responder=lambda seen: {"summary": "s", "key_facts": [], "open_questions": [], "next_step": "n"}
    )
    fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        db = Database(url)
        gateway = AiGateway(
            db,
            SystemClock(),
            AiSettings(daily_token_budget=10**9),
            OpenAIModel("k", fake.url),
            default_model="fake",
            account_pattern=pattern,
        )
        bare = openai.OpenAI(api_key="k", base_url=fake.url, max_retries=0)
        context = {
            "subject_kind": "case",
            "ref": "CASE-1",
            "category": "c",
            "priority": "P3",
            "status": "new",
        }
        through, direct = [], []
        for i in range(args.calls):
            material = texts[i % len(texts)]
            t0 = time.perf_counter()
            gateway.ask("summarize", Summary, texts={"material": material}, context=context)
            through.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            response = bare.chat.completions.create(
                model="fake",
                messages=[{"role": "system", "content": "s"}, {"role": "user", "content": material}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "Summary", "schema": Summary.model_json_schema()},
                },
            )
            Summary.model_validate_json(response.choices[0].message.content or "{}")
            direct.append(time.perf_counter() - t0)
        db.dispose()
    fake.stop()
    g, d = statistics.median(through) * 1000, statistics.median(direct) * 1000
    print(
        f"gateway call (median of {args.calls}): {g:.2f} ms; bare client call: {d:.2f} ms; "
        f"overhead {g - d:.2f} ms ({g / d:.2f}x)"
    )


if __name__ == "__main__":
    main()

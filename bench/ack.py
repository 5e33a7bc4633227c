"""Ack latency of `/vigil help` beside a bare Bolt AsyncApp that only acks.

    python -m bench.ack [--commands 2000] [--concurrency 10] [--runs 5]

Both servers run under uvicorn, each in its own process, with the same options as
`vigil serve`; the fake Slack (where Vigil's `respond` lands, after the ack) runs in a third
process. Each run sends the same number of signed slash commands at a fixed concurrency
from this process, to the bare app, then to Vigil, then the bare app again… (interleaved,
so a noisy neighbour hurts both); the ratio of each pair's p50 and p99 is taken and the
median over the runs reported, as DESIGN.md asks.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from typing import Any
from urllib.parse import urlencode

import httpx

SECRET = "bench-signing-secret"


def _uvicorn(app: Any, port: int) -> None:
    import uvicorn

    # What bot/serve.py passes, so the two servers differ only in the app.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, proxy_headers=True, access_log=False)


def serve_bare(port: int, api_url: str) -> None:
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    # Its one auth.test (on the first request) goes to the fake Slack, as Vigil's does.
    app = AsyncApp(client=AsyncWebClient("xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @app.command("/vigil")
    async def only_ack(ack: Any) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Any:
        return await handler.handle(request)

    _uvicorn(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]), port)


def serve_fake_slack(conn: Any) -> None:
    from bot.fakes.slack import FakeSlack

    fake = FakeSlack().start()
    conn.send((fake.api_url, fake.response_url("bench")))
    conn.recv()
    fake.stop()


def serve_vigil(port: int, api_url: str, folder: str) -> None:
    from pydantic import SecretStr

    from bot.app import create_bolt_app
    from bot.http import create_http_app
    from bot.runtime import build_context
    from bot.slack_client import make_client
    from store import migrate
    from store.db import Database
    from tests.harness.world import config_data
    from workflows.clock import SystemClock
    from workflows.config import Settings, parse_config

    url = f"sqlite:///{folder}/ack.db"
    migrate.upgrade(url)
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-bench"), slack_signing_secret=SecretStr(SECRET), slack_api_url=api_url
    )
    ctx, client = build_context(
        settings,
        parse_config(config_data()),
        db=Database(url),
        clock=SystemClock(),
        client=make_client("xoxb-bench", api_url),
    )
    from bot.serve import settle_heap

    http = create_http_app(ctx, create_bolt_app(ctx, client))
    settle_heap()  # as `vigil serve` does before it listens
    _uvicorn(http, port)


def signed_commands(count: int, response_url: str) -> list[tuple[bytes, dict[str, str]]]:
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)
    out = []
    for n in range(count):
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0TEAM001",
                "team_domain": "bench",
                "channel_id": "C0ESC0001",
                "channel_name": "escalations",
                "user_id": "U0ANA0001",
                "user_name": "analyst",
                "command": "/vigil",
                "text": "help",
                "api_app_id": "A0VIGIL01",
                "response_url": response_url,
                "trigger_id": f"trigger.{n}",
            }
        )
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        out.append((body.encode(), headers))
    return out


async def _load(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue = iter(requests)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def worker() -> None:
            for body, headers in queue:
                started = time.perf_counter()
                response = await http.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def load(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict[str, float]:
    started = time.perf_counter()
    latencies = sorted(asyncio.run(_load(url, requests, concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "per_second": len(latencies) / elapsed,
    }


def _wait_up(url: str, server: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.is_alive():
        try:
            httpx.post(url, content=b"", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def run(commands: int = 2000, concurrency: int = 10, runs: int = 5) -> dict[str, Any]:
    from tests.harness.server import free_port

    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    slack = spawn.Process(target=serve_fake_slack, args=(child,), daemon=True)
    slack.start()
    api_url, response_url = parent.recv()
    folder = tempfile.TemporaryDirectory()
    bare_port, vigil_port = free_port(), free_port()
    servers = [
        spawn.Process(target=serve_bare, args=(bare_port, api_url), daemon=True),
        spawn.Process(target=serve_vigil, args=(vigil_port, api_url, folder.name), daemon=True),
    ]
    for server in servers:
        server.start()
    urls = {
        "bare": f"http://127.0.0.1:{bare_port}/slack/events",
        "vigil": f"http://127.0.0.1:{vigil_port}/slack/events",
    }
    try:
        for url, server in zip(urls.values(), servers, strict=True):
            _wait_up(url, server)
            load(url, signed_commands(200, response_url), concurrency)  # warm: imports, pools, caches
        results: dict[str, list[dict[str, float]]] = {"bare": [], "vigil": []}
        for _ in range(runs):
            for name, url in urls.items():
                results[name].append(load(url, signed_commands(commands, response_url), concurrency))
    finally:
        for server in servers:
            server.terminate()
            server.join(10)
        parent.send("done")
        slack.join(10)
        folder.cleanup()
    pairs = list(zip(results["bare"], results["vigil"], strict=True))
    return {
        "commands": commands,
        "concurrency": concurrency,
        "runs": runs,
        "p50_ratio": statistics.median(v["p50_ms"] / b["p50_ms"] for b, v in pairs),
        "p99_ratio": statistics.median(v["p99_ms"] / b["p99_ms"] for b, v in pairs),
        "p50_ratios": [round(v["p50_ms"] / b["p50_ms"], 2) for b, v in pairs],
        "p99_ratios": [round(v["p99_ms"] / b["p99_ms"], 2) for b, v in pairs],
        "bare_p50_ms": statistics.median(r["p50_ms"] for r in results["bare"]),
        "bare_p99_ms": statistics.median(r["p99_ms"] for r in results["bare"]),
        "vigil_p50_ms": statistics.median(r["p50_ms"] for r in results["vigil"]),
        "vigil_p99_ms": statistics.median(r["p99_ms"] for r in results["vigil"]),
        "vigil_per_second": statistics.median(r["per_second"] for r in results["vigil"]),
    }


def figures(quick: bool = False) -> list[dict[str, Any]]:
    result = run(commands=200 if quick else 2000, runs=1 if quick else 5)
    size = f"{result['commands']:,} signed `/vigil help` at concurrency {result['concurrency']}"
    detail = (
        f"median of {result['runs']} interleaved runs; per run p50 {result['p50_ratios']}, "
        f"p99 {result['p99_ratios']}"
    )
    return [
        {
            "measure": f"ack p50, {size}",
            "baseline": f"bare Bolt AsyncApp: {result['bare_p50_ms']:.1f} ms",
            "now": f"{result['p50_ratio']:.2f}x ({result['vigil_p50_ms']:.1f} ms)",
            "target": "\u2264 1.1x",
            "note": detail,
        },
        {
            "measure": f"ack p99, {size}",
            "baseline": f"bare Bolt AsyncApp: {result['bare_p99_ms']:.1f} ms",
            "now": f"{result['p99_ratio']:.2f}x ({result['vigil_p99_ms']:.1f} ms)",
            "target": "\u2264 1.2x",
            "note": f"Vigil served {result['vigil_per_second']:.0f} commands/s",
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = run(args.commands, args.concurrency, args.runs)
    for key, value in result.items():
        print(f"{key:18} {value:.2f}" if isinstance(value, float) else f"{key:18} {value}")


if __name__ == "__main__":
    main()

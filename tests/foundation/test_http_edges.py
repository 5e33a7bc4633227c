"""Someone throws garbage at Vigil's HTTP edge: each piece is a clear 4xx, never a 500, and
the connection a client keeps open stays usable after a handler fails."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.cli import main
from bot.http import create_http_app
from tests.harness.server import ServerThread
from tests.harness.vigil import Vigil
from tests.harness.world import LEAD
from workflows.config import Settings

SIGNALS_TOKEN = "sig-edge-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"vigil_signals_token": SecretStr(SIGNALS_TOKEN)})


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [100_000, 500])
def test_deeply_nested_slack_json_is_a_400(vigil: Vigil, depth: int) -> None:
    # 100,000 levels break the parser itself; 500 parse but would break whatever walks them next.
    body = '{"type": "event_callback", "event": ' + nested(depth) + "}"
    response = vigil.send.post(body, "application/json")
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": "body is nested more than 64 levels deep"}


def test_a_deeply_nested_interactive_payload_is_a_400(vigil: Vigil) -> None:
    payload = '{"type": "block_actions", "user": {"id": "' + LEAD + '"}, "x": ' + nested(50_000) + "}"
    response = vigil.send.post(urlencode({"payload": payload}), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["error"] == "payload is nested more than 64 levels deep"


def test_a_real_slack_payload_still_passes(vigil: Vigil) -> None:
    assert vigil.send.command("/vigil", "help").status_code == 200


@pytest.mark.parametrize("stamp", ["soon", "1.5e9", "", "9" * 5000, "-1"])
def test_a_timestamp_that_is_not_an_integer_is_a_401(vigil: Vigil, stamp: str) -> None:
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
    response = vigil.send.post(
        "command=%2Fvigil&text=help", "application/x-www-form-urlencoded", sign=False, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["ok"] is False
    assert not vigil.slack.calls_of("response_url")


def test_deeply_nested_signals_are_a_400(vigil: Vigil) -> None:
    for body in ('{"signals": ' + "[" * 100_000 + "]" * 100_000 + "}", '{"signals": [' + nested(100) + "]}"):
        response = httpx.post(
            f"{vigil.server.url}/api/v1/signals",
            content=body.encode(),
            headers={"Authorization": f"Bearer {SIGNALS_TOKEN}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "body is nested more than 64 levels deep"


def test_an_unknown_path_is_a_json_404(vigil: Vigil) -> None:
    response = httpx.get(f"{vigil.server.url}/wp-admin")
    assert response.status_code == 404 and response.json()["ok"] is False
    assert httpx.get(f"{vigil.server.url}/slack/events").status_code == 405


# --- one keep-alive connection across a failing handler -------------------------------------------------
def _raw_exchange(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open socket; returns (status, body). Keeps the connection."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: vigil\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection instead of answering {path}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = next(
        int(v) for k, _, v in (line.partition(": ") for line in lines[1:]) if k.lower() == "content-length"
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        body += chunk
    return int(lines[0].split()[1]), body[:length]


@pytest.fixture
def failing_routes(vigil: Vigil) -> Iterator[ServerThread]:
    """Vigil's HTTP app with two handlers that fail: one before answering, one after (an
    after-response task, the way a handler fails once the client has its answer)."""

    def broken_task() -> None:
        raise RuntimeError("audit sink down")

    async def fails_after(_request: Request) -> Response:
        return JSONResponse({"ok": True}, background=BackgroundTask(broken_task))

    async def fails_before(_request: Request) -> Response:
        raise RuntimeError("bug")

    routes = [
        Route("/test/fails-after", fails_after, methods=["GET"]),
        Route("/test/fails-before", fails_before, methods=["GET"]),
    ]
    server = ServerThread(create_http_app(vigil.ctx, None, extra_routes=routes)).start()
    yield server
    server.stop()


def test_a_handler_failing_after_its_answer_leaves_the_connection_usable(
    failing_routes: ServerThread,
) -> None:
    with socket.create_connection(("127.0.0.1", failing_routes.port), timeout=10) as sock:
        assert _raw_exchange(sock, "/test/fails-after") == (200, b'{"ok":true}')
        status, body = _raw_exchange(sock, "/healthz")  # the same connection, next request
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = _raw_exchange(sock, "/test/fails-before")
        assert status == 500 and json.loads(body) == {"ok": False, "error": "internal error"}
        assert _raw_exchange(sock, "/healthz")[0] == 200
    metrics = httpx.get(f"{failing_routes.url}/metrics").text
    assert 'vigil_http_requests_total{route="/test/fails-before",status="500"}' in metrics
    assert 'vigil_http_requests_total{route="/test/fails-after",status="200"}' in metrics


# --- the environment ---------------------------------------------------------------------------------------
def test_an_empty_signing_secret_stops_serve_like_a_missing_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_CONFIG", "vigil.example.yaml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert result.output.startswith("vigil: missing environment: SLACK_SIGNING_SECRET.")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "   ")
    assert Settings().missing_for_serve(socket_mode=False) == ["SLACK_SIGNING_SECRET"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert Settings().missing_for_serve(socket_mode=False) == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]

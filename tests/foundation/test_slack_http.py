"""Slack talks to Vigil over one URL; only Slack gets in, and no input makes it a 500."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from store.slack_events import SlackEventSeen
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, OUTSIDER


def test_a_signed_slash_command_is_acked_and_answered(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "help", user=OUTSIDER)
    assert response.status_code == 200
    reply = vigil.slack.wait_for("response_url")[0]
    assert reply["response_type"] == "ephemeral"
    assert "/vigil help" in json.dumps(reply["blocks"])


def test_an_unknown_subcommand_gets_a_hint(vigil: Vigil) -> None:
    assert vigil.send.command("/vigil", "frobnicate <!channel>").status_code == 200
    reply = vigil.slack.wait_for("response_url")[0]
    assert "Try `/vigil help`" in reply["text"]
    assert "<!channel>" not in reply["text"]


def test_a_bad_signature_is_401(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "help", secret="not-the-secret")
    assert response.status_code == 401
    assert vigil.slack.calls_of("response_url") == []


def test_a_stale_signature_is_401(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "help", timestamp=int(time.time()) - 600)
    assert response.status_code == 401


def test_an_unsigned_request_is_401(vigil: Vigil) -> None:
    assert vigil.send.command("/vigil", "help", sign=False).status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", 400),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded", 400),
    ],
)
def test_garbage_is_a_400_not_a_500(vigil: Vigil, body: bytes, content_type: str, status: int) -> None:
    response = vigil.send.post(body, content_type)
    assert response.status_code == status
    assert response.json()["ok"] is False


def test_a_body_over_one_megabyte_is_413(vigil: Vigil) -> None:
    body = "text=" + "a" * (1024 * 1024 + 10)
    assert vigil.send.post(body, "application/x-www-form-urlencoded").status_code == 413


def test_url_verification_answers_the_challenge(vigil: Vigil) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    response = vigil.send.post(body, "application/json")
    assert response.status_code == 200
    assert "abc123" in response.text


def test_a_retried_event_is_processed_once(vigil: Vigil) -> None:
    event = {"type": "app_home_opened", "user": ANALYST, "channel": "D0DM00001", "tab": "home"}
    assert vigil.send.event(event, event_id="Ev0RETRY1").status_code == 200
    vigil.slack.wait_for("views.publish")
    # Slack did not see our ack in time and retries; a second replica got a copy too.
    assert vigil.send.event(event, event_id="Ev0RETRY1", retry_num=1).status_code == 200
    assert vigil.send.event(event, event_id="Ev0RETRY1", retry_num=2).status_code == 200
    time.sleep(0.3)
    assert len(vigil.slack.calls_of("views.publish")) == 1
    with vigil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SlackEventSeen)) == 1


def test_unhandled_events_are_acked_so_slack_does_not_retry(vigil: Vigil) -> None:
    event = {"type": "member_joined_channel", "user": ANALYST, "channel": "C0ESC0001"}
    assert vigil.send.event(event).status_code == 200


def test_a_slow_handler_never_blocks_another_ack(vigil: Vigil) -> None:
    release = threading.Event()

    def slow_publish(args: dict) -> dict:
        release.wait(20)
        return {"ok": True, "view": {"id": "V1"}}

    vigil.slack.on("views.publish", slow_publish)
    try:
        # Several App Home opens are stuck in a slow Slack call…
        for n in range(4):
            event = {"type": "app_home_opened", "user": ANALYST, "tab": "home"}
            assert vigil.send.event(event, event_id=f"Ev0SLOW{n}").status_code == 200
        vigil.slack.wait_for("views.publish", count=4)
        # …and a slash command is still acked while they wait.
        assert vigil.send.command("/vigil", "help").status_code == 200
        vigil.slack.wait_for("response_url")
    finally:
        release.set()


def test_healthz_reports_the_database(vigil: Vigil) -> None:
    response = httpx.get(f"{vigil.server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_gone(vigil: Vigil, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ConnectionError("db down")

    monkeypatch.setattr(vigil.db, "ping", broken)
    response = httpx.get(f"{vigil.server.url}/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_metrics_count_requests_by_route_and_status(vigil: Vigil) -> None:
    vigil.send.command("/vigil", "help", secret="wrong")
    httpx.get(f"{vigil.server.url}/healthz")
    body = httpx.get(f"{vigil.server.url}/metrics").text
    assert 'vigil_http_requests_total{route="/slack/events",status="401"}' in body
    assert 'vigil_http_requests_total{route="/healthz",status="200"}' in body
    assert "vigil_handler_seconds_bucket" in body
    assert "vigil_errors_total" in body

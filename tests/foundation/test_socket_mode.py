"""Vigil runs over Socket Mode: Slack talks over the websocket only, and nobody on the
network can pose as Slack over HTTP to approve a suspension."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.fakes.slack import FakeSlack
from bot.runtime import build_context
from bot.serve import build_apps
from bot.slack_client import make_client
from commands.context import AppContext
from store.db import Database
from store.enforcement import EnforcementRequest
from tests.harness.enforcement_steps import ask, card, card_ts, request_row
from tests.harness.server import ServerThread
from tests.harness.slack_sender import SlackSender
from tests.harness.vigil import TEST_ENFORCER, Vigil
from tests.harness.world import ANALYST, APPROVALS, BOT_TOKEN, LEAD
from workflows.clock import FixedClock
from workflows.config import Settings, VigilConfig
from workflows.enforcement import Draft, check_draft


@pytest.fixture
def socket_vigil(
    settings: Settings, config: VigilConfig, db: Database, clock: FixedClock, fake_slack: FakeSlack
) -> Iterator[tuple[AppContext, ServerThread, App]]:
    """Vigil built exactly as `vigil serve --socket-mode` builds it (no websocket connected):
    an app-level token and no signing secret, as a Socket Mode operator sets it up."""
    socket_settings = settings.model_copy(
        update={"slack_signing_secret": None, "slack_app_token": SecretStr("xapp-1-A0VIGIL01-1-abc")}
    )
    client = make_client(BOT_TOKEN, fake_slack.api_url)
    ctx, client = build_context(
        socket_settings, config, db=db, clock=clock, client=client, enforcer_options=TEST_ENFORCER
    )
    bolt, http = build_apps(ctx, client, socket_mode=True)
    server = ServerThread(http).start()
    yield ctx, server, bolt
    server.stop()
    ctx.jobs.stop()
    ctx.enforcer.stop()


def _pending_request(ctx: AppContext) -> int:
    checked = check_draft(
        Draft(action="suspend", requester=ANALYST, accounts_text="acct_1", reason_code="spam", source="cli"),
        ctx.config.enforcement,
    )
    request_id = ctx.enforcer.create(checked)
    ctx.jobs.run_until_idle()  # the approval card goes out
    return request_id


def test_in_socket_mode_an_unsigned_approval_over_http_finds_no_door(
    socket_vigil: tuple[AppContext, ServerThread, App], fake_slack: FakeSlack
) -> None:
    ctx, server, _bolt = socket_vigil
    request_id = _pending_request(ctx)
    view = ctx.enforcer.view(request_id)
    assert view is not None and view.card is not None
    # Someone who can reach the pod's port posts a block_actions payload posing as the lead.
    attacker = SlackSender(server.url, "a-guessed-secret", fake_slack.response_url())
    try:
        forged = attacker.block_action(
            "enforcement_approve", str(request_id), user=LEAD, channel=APPROVALS, message_ts=view.card.ts
        )
        unsigned = attacker.block_action(
            "enforcement_approve", str(request_id), user=LEAD, channel=APPROVALS, sign=False
        )
    finally:
        attacker.close()
    assert forged.status_code == 404 and unsigned.status_code == 404
    assert forged.json()["ok"] is False
    with ctx.db.read() as session:
        request = session.get(EnforcementRequest, request_id)
        assert request is not None and request.status == "pending_approval"
    assert not fake_slack.calls_of("response_url")
    assert not [c for c in fake_slack.calls_of("chat.postMessage") if "approved" in str(c.get("text"))]
    # The orchestrator's endpoints still answer over HTTP.
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "database": "ok"}
    assert "vigil_http_requests_total" in httpx.get(f"{server.url}/metrics").text


def test_socket_mode_requests_still_reach_the_app_with_verification_on(
    socket_vigil: tuple[AppContext, ServerThread, App], fake_slack: FakeSlack
) -> None:
    _ctx, _server, bolt = socket_vigil
    # What the websocket hands to Bolt: no signature, and none is needed on the socket.
    request = SocketModeRequest(
        type="slash_commands",
        envelope_id="env-1",
        payload={
            "command": "/vigil",
            "text": "help",
            "user_id": ANALYST,
            "channel_id": "C0ESC0001",
            "team_id": "T0TEAM001",
            "response_url": fake_slack.response_url(),
            "trigger_id": "trigger.socket",
        },
    )
    assert run_bolt_app(bolt, request).status == 200
    assert "/vigil help" in str(fake_slack.wait_for("response_url")[0]["blocks"])


def test_in_http_mode_an_unsigned_approval_is_401_and_approves_nothing(vigil: Vigil) -> None:
    assert ask(vigil, accounts="acct_1").status_code == 200
    card(vigil)
    response = vigil.send.block_action(
        "enforcement_approve", "1", user=LEAD, channel=APPROVALS, message_ts=card_ts(vigil), sign=False
    )
    assert response.status_code == 401
    assert request_row(vigil).status == "pending_approval"

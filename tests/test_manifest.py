"""The manifest a workspace admin pastes grants what Vigil uses, and Vigil answers all it declares."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.doctor import REQUIRED_SCOPES
from tests.conftest import ANALYST, Vigil

MANIFEST = yaml.safe_load((Path(__file__).resolve().parent.parent / "manifest.yml").read_text())


def test_the_manifest_grants_exactly_the_scopes_doctor_checks() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == REQUIRED_SCOPES


def test_every_declared_slash_command_is_handled(vigil: Vigil) -> None:
    for command in MANIFEST["features"]["slash_commands"]:
        response = vigil.send.command(command["command"], "help", user=ANALYST)
        assert response.status_code == 200, command["command"]


def test_every_subscribed_event_is_acked(vigil: Vigil) -> None:
    names = {"message.channels": "message", "message.groups": "message"}
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        event_type = names.get(event, event)
        payload = {
            "type": event_type,
            "user": ANALYST,
            "channel": "C0OTHER01",
            "ts": "1764000000.000100",
            "item": {"type": "message", "channel": "C0OTHER01", "ts": "1764000000.000100"},
            "reaction": "eyes",
            "text": "hello",
            "tab": "home",
        }
        assert vigil.send.event(payload).status_code == 200, event

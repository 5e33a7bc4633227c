"""The manifest a workspace admin pastes grants what Vigil uses, and Vigil answers all it declares."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.slack_scopes import COMPOSITE_METHODS, EVENT_SCOPES, FEATURE_SCOPES, METHOD_SCOPES, REQUIRED_SCOPES
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
SOURCE_PACKAGES = ("bot", "commands", "workflows", "store")
WEB_API = {name for name in vars(WebClient) if not name.startswith("_")}  # chat_postMessage, …


def web_api_calls() -> dict[str, set[str]]:
    """Every Web API method the code calls (client.chat_postMessage(…), client.api_call("…")),
    with the files that call it."""
    found: dict[str, set[str]] = {}
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name = node.func.attr
                if name == "api_call" and node.args and isinstance(node.args[0], ast.Constant):
                    methods: tuple[str, ...] = (str(node.args[0].value),)
                elif name in COMPOSITE_METHODS:
                    methods = COMPOSITE_METHODS[name]
                elif name in WEB_API:
                    methods = (name.replace("_", "."),)
                else:
                    continue
                for method in methods:
                    found.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_web_api_call_has_its_scopes_listed_and_every_listed_method_is_called() -> None:
    called = web_api_calls()
    unlisted = {m: sorted(where) for m, where in called.items() if m not in METHOD_SCOPES}
    assert not unlisted, f"add these methods and their scopes to bot/slack_scopes.py: {unlisted}"
    stale = sorted(set(METHOD_SCOPES) - set(called))
    assert not stale, f"bot/slack_scopes.py lists methods the code no longer calls: {stale}"


def test_the_manifest_asks_for_exactly_the_scopes_the_code_uses() -> None:
    features = MANIFEST["features"]
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) == set(EVENT_SCOPES), "bot/slack_scopes.py EVENT_SCOPES and the manifest differ"
    assert all(features.get(feature) for feature in FEATURE_SCOPES)
    needed = set().union(
        *(METHOD_SCOPES[m] for m in web_api_calls()),
        *(EVENT_SCOPES[e] for e in events),
        *(FEATURE_SCOPES[f] for f in FEATURE_SCOPES if features.get(f)),
    )
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert not needed - granted, f"manifest.yml lacks {sorted(needed - granted)}"
    assert not granted - needed, f"manifest.yml asks for unused {sorted(granted - needed)}"
    assert needed == REQUIRED_SCOPES  # what `vigil doctor` checks on an installed token


def test_the_dms_vigil_sends_are_visible_in_its_messages_tab() -> None:
    # Vigil DMs by posting to a user id (a requester's link, a refusal it cannot show in the
    # channel): Slack puts those in the app's Messages tab, hidden when the tab is off.
    app_home = MANIFEST["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
    assert app_home["messages_tab_read_only_enabled"] is True  # Vigil reads no DMs


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

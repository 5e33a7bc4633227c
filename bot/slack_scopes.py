"""The bot scopes Vigil asks for, each for a reason: the Web API methods it calls, the events
it subscribes to and the features it declares. `vigil doctor` checks an installed token against
REQUIRED_SCOPES; tests/test_manifest.py walks the source for the methods called and keeps this
table and manifest.yml in step, both ways (no call without its scope, no scope without a use)."""

from __future__ import annotations

from itertools import chain

# Web API method → the bot scopes it needs (Slack's docs, "Required scopes"). Vigil's channels
# may be public or private, so channel reads need both the channels: and the groups: scope.
# DMs are chat.postMessage to a user id: they land in the app's Messages tab (no im: scope).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.getPermalink": frozenset(),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.info": frozenset({"files:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "views.open": frozenset(),
    "views.publish": frozenset(),
}

# slack_sdk helpers that are several Web API calls.
COMPOSITE_METHODS: dict[str, tuple[str, ...]] = {
    "files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal"),
}

# Event subscriptions (manifest settings.event_subscriptions.bot_events) → scopes.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "message.channels": frozenset({"channels:history"}),
    "message.groups": frozenset({"groups:history"}),
    "reaction_added": frozenset({"reactions:read"}),
    "reaction_removed": frozenset({"reactions:read"}),
}

# Manifest features → scopes.
FEATURE_SCOPES: dict[str, frozenset[str]] = {
    "slash_commands": frozenset({"commands"}),
    "shortcuts": frozenset({"commands"}),
}

REQUIRED_SCOPES: frozenset[str] = frozenset(
    chain.from_iterable([*METHOD_SCOPES.values(), *EVENT_SCOPES.values(), *FEATURE_SCOPES.values()])
)

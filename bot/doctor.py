"""`vigil doctor`: check a deployment the way a new operator needs, one line per check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_client import check_token
from bot.slack_scopes import REQUIRED_SCOPES
from store.db import Database
from workflows.config import ConfigError, Settings, VigilConfig, load_config, secret


@dataclass(frozen=True)
class Check:
    level: str  # OK, WARN, FAIL
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.level:<5} {self.what}: {self.detail}"


def run_checks(settings: Settings, client: WebClient | None = None) -> Iterator[Check]:
    try:
        config: VigilConfig | None = load_config(settings.vigil_config)
        yield Check("OK", "config", f"{settings.vigil_config} is valid")
    except ConfigError as exc:
        config = None
        yield Check("FAIL", "config", str(exc).replace("\n", "; "))

    db = Database(settings.vigil_database_url)
    try:
        db.ping()
        yield Check("OK", "database", f"reachable ({db.dialect})")
        status = db.schema_status()
        if status.up_to_date:
            yield Check("OK", "schema", f"migrated to {status.head}")
        else:
            yield Check(
                "FAIL",
                "schema",
                f"at {status.current or 'nothing'}, needs {status.head}: run `vigil db upgrade`",
            )
    except Exception as exc:
        yield Check("FAIL", "database", f"unreachable ({type(exc).__name__}): check VIGIL_DATABASE_URL")
    finally:
        db.dispose()

    if config is not None:
        yield _playbooks_check(config)
    yield from _slack_checks(settings, config, client)
    yield _enforcement_check(settings)
    yield Check(
        "OK",
        "signals API",
        "enabled (POST /api/v1/signals)"
        if settings.vigil_signals_token
        else "disabled: set VIGIL_SIGNALS_TOKEN to accept signals over HTTP",
    )
    yield Check(
        "OK",
        "AI",
        f"model {settings.vigil_ai_model or 'default'} via OpenAI-compatible API"
        if settings.openai_api_key
        else "offline: no OPENAI_API_KEY, deterministic summaries only",
    )


SKIPPED = "skipped (needs a valid token)"


def _slack_checks(
    settings: Settings, config: VigilConfig | None, client: WebClient | None
) -> Iterator[Check]:
    # The secret is checked whatever the token's state: an operator fixes both in one pass.
    yield _secret_check(settings)
    token = secret(settings.slack_bot_token)
    if not token:
        yield Check("FAIL", "slack token", "SLACK_BOT_TOKEN is not set (create the app from manifest.yml)")
        yield from _skipped(config)
        return
    if client is None:
        from bot.slack_client import make_client

        client = make_client(token, settings.slack_api_url)
    auth = check_token(client, settings.slack_api_url)
    if not auth.ok:
        yield Check("FAIL", "slack token", auth.problem)
        yield from _skipped(config)
        return
    yield Check("OK", "slack token", f"valid for {auth.user or '?'} in team {auth.team_id or '?'}")
    if auth.scopes is None:
        yield Check(
            "WARN", "slack scopes", "Slack did not say which scopes the token has (no X-OAuth-Scopes)"
        )
    elif missing := sorted(REQUIRED_SCOPES - auth.scopes):
        yield Check(
            "FAIL", "slack scopes", f"missing {', '.join(missing)}: add them (see manifest.yml) and reinstall"
        )
    else:
        yield Check("OK", "slack scopes", "all granted")
    for key, channel in _channels(config).items():
        yield _channel_check(client, key, channel)


def _secret_check(settings: Settings) -> Check:
    if settings.slack_signing_secret is not None:
        return Check("OK", "slack secret", "SLACK_SIGNING_SECRET is set (HTTP mode)")
    if settings.slack_app_token is not None:
        app_token = secret(settings.slack_app_token) or ""
        if not app_token.startswith("xapp-"):
            return Check(
                "FAIL",
                "slack secret",
                "SLACK_APP_TOKEN is not an app-level token (xapp-…, connections:write)",
            )
        return Check("OK", "slack secret", "SLACK_APP_TOKEN is set (Socket Mode: vigil serve --socket-mode)")
    return Check("FAIL", "slack secret", "set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")


def _channels(config: VigilConfig | None) -> dict[str, str]:
    if config is None:
        return {}
    channels = {f"channels.escalations[{i}]": c for i, c in enumerate(config.channels.escalations)}
    for name in ("approvals", "digest", "alerts", "engineering"):
        channels[f"channels.{name}"] = getattr(config.channels, name)
    return channels


def _skipped(config: VigilConfig | None) -> Iterator[Check]:
    yield Check("SKIP", "slack scopes", SKIPPED)
    for key in _channels(config):
        yield Check("SKIP", key, SKIPPED)


def _channel_check(client: WebClient, key: str, channel: str) -> Check:
    try:
        info = client.conversations_info(channel=channel).get("channel")
    except SlackApiError as exc:
        data = getattr(exc.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        if isinstance(code, str) and code.isidentifier():
            return Check("FAIL", key, f"{channel}: {code} (is the id right?)")
        return Check("FAIL", key, f"{channel}: unexpected answer from Slack to conversations.info")
    except Exception as exc:  # unreachable mid-run, or an answer slack_sdk could not read
        return Check("FAIL", key, f"{channel}: conversations.info failed ({type(exc).__name__})")
    if not isinstance(info, dict):
        return Check("FAIL", key, f"{channel}: unexpected answer from Slack to conversations.info")
    if info.get("is_member"):
        return Check("OK", key, f"#{info.get('name', channel)}: Vigil is a member")
    return Check("FAIL", key, f"#{info.get('name', channel)}: invite Vigil with /invite @Vigil")


def _enforcement_check(settings: Settings) -> Check:
    url = settings.vigil_enforcement_url
    if not url:
        return Check(
            "OK",
            "enforcement API",
            "manual mode: approved actions are handed to the engineering channel, not executed",
        )
    token = secret(settings.vigil_enforcement_token)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(f"{url}/accounts/vigil-doctor-probe", headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        return Check("FAIL", "enforcement API", f"{url} unreachable ({type(exc).__name__})")
    if response.status_code in (401, 403):
        return Check("FAIL", "enforcement API", f"{url} refused the token (HTTP {response.status_code})")
    if response.status_code in (200, 404):
        return Check("OK", "enforcement API", f"{url} reachable and the token is accepted")
    return Check(
        "WARN", "enforcement API", f"{url} answered HTTP {response.status_code} to an account lookup"
    )


def _playbooks_check(config: VigilConfig) -> Check:
    from workflows.playbooks import PlaybookError, load_rules

    try:
        rules = load_rules(config.playbooks)
    except PlaybookError as exc:
        return Check(
            "FAIL",
            "playbooks",
            f"{len(exc.problems)} problem(s), first: {exc.problems[0]}; run `vigil rules check`",
        )
    if not rules.rules:
        return Check("WARN", "playbooks", f"no rules in {config.playbooks}: built-in triage only")
    return Check("OK", "playbooks", f"{len(rules.rules)} rules, version {rules.version}")

"""A new operator starts `vigil serve` with a token or Slack URL that does not work: one line
says which and what to check, the exit is non-zero, and no traceback scrolls past."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.fakes.slack import FakeSlack
from store.db import Database
from tests.harness.world import BOT_TOKEN, SIGNING_SECRET


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, db: Database, fake_slack: FakeSlack) -> None:
    for key, value in {
        "VIGIL_CONFIG": "vigil.example.yaml",
        "VIGIL_DATABASE_URL": db.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
    }.items():
        monkeypatch.setenv(key, value)


def _serve() -> tuple[int, list[str]]:
    """Exit code and what the operator reads besides the structured log lines."""
    result = CliRunner().invoke(main, ["serve", "--port", "3999"])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if not _is_log(line)]
    return result.exit_code, lines


def _is_log(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@pytest.mark.usefixtures("operator_env")
@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_token_slack_refuses_is_one_line(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail("auth.test", error=error, times=5)
    code, lines = _serve()
    assert code == 1
    assert lines == [
        f"vigil: Slack refused SLACK_BOT_TOKEN ({error}): use the Bot User OAuth Token (xoxb-…) "
        "from OAuth & Permissions of the installed app"
    ]


@pytest.mark.usefixtures("operator_env")
def test_an_unreachable_slack_url_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    code, lines = _serve()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("vigil: cannot reach Slack at http://127.0.0.1:9/api/ (URLError")
    assert lines[0].endswith("check SLACK_API_URL and the network or proxy")


@pytest.mark.usefixtures("operator_env")
@pytest.mark.parametrize("answer", [b"<html>Welcome to nginx!</html>", b"[]"])
def test_a_url_that_is_not_slack_is_one_line(fake_slack: FakeSlack, answer: Any) -> None:
    fake_slack.on("auth.test", lambda _args: answer)
    code, lines = _serve()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"vigil: unexpected answer from {fake_slack.api_url}auth.test")
    assert "check that SLACK_API_URL is Slack's Web API" in lines[0]


@pytest.mark.usefixtures("operator_env")
def test_slack_in_trouble_is_one_line_too(fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", status=503, times=10)  # more than the client's retries
    code, lines = _serve()
    assert code == 1
    assert lines == [
        "vigil: Slack answered auth.test with HTTP 503: try again shortly (status.slack.com), "
        "or check SLACK_API_URL"
    ]

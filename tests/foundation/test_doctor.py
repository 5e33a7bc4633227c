"""A new operator runs `vigil doctor` and learns exactly what is left to set up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from store.db import Database
from tests.harness.world import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def operator_env(
    monkeypatch: pytest.MonkeyPatch, db: Database, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "vigil.yaml"
    config.write_text(
        (ROOT / "vigil.example.yaml")
        .read_text()
        .replace('playbooks: "playbooks/"', f'playbooks: "{ROOT / "playbooks"}"')
    )
    for key, value in {
        "VIGIL_CONFIG": str(config),
        "VIGIL_DATABASE_URL": db.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VIGIL_ENFORCEMENT_URL", raising=False)


def _doctor() -> tuple[int, str]:
    result = CliRunner().invoke(main, ["doctor"])
    return result.exit_code, result.output


@pytest.mark.usefixtures("operator_env")
def test_a_healthy_deployment_is_all_ok() -> None:
    code, out = _doctor()
    assert code == 0, out
    assert "OK    slack scopes: all granted" in out
    assert "OK    channels.approvals" in out
    assert "manual mode" in out
    assert "OK    playbooks: 8 rules" in out


@pytest.mark.usefixtures("operator_env")
def test_missing_scopes_and_channel_membership_are_named(fake_slack: FakeSlack) -> None:
    fake_slack.scopes = "chat:write,commands"
    fake_slack.non_member_channels.add("C0APR0001")
    code, out = _doctor()
    assert code == 1
    assert "FAIL  slack scopes: missing channels:history" in out
    assert "FAIL  channels.approvals" in out and "/invite @Vigil" in out


@pytest.mark.usefixtures("operator_env")
def test_a_bad_token_says_so(fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", error="invalid_auth")
    code, out = _doctor()
    assert code == 1 and "FAIL  slack token: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in out


@pytest.mark.usefixtures("operator_env")
def test_the_enforcement_api_is_checked(
    monkeypatch: pytest.MonkeyPatch, fake_enforcement: FakeEnforcement
) -> None:
    monkeypatch.setenv("VIGIL_ENFORCEMENT_URL", fake_enforcement.url)
    monkeypatch.setenv("VIGIL_ENFORCEMENT_TOKEN", fake_enforcement.token)
    assert "OK    enforcement API" in _doctor()[1]
    monkeypatch.setenv("VIGIL_ENFORCEMENT_TOKEN", "wrong")
    assert "refused the token (HTTP 401)" in _doctor()[1]
    monkeypatch.setenv("VIGIL_ENFORCEMENT_URL", "http://127.0.0.1:9")
    assert "unreachable" in _doctor()[1]


@pytest.mark.usefixtures("operator_env")
def test_a_schema_behind_and_a_bad_config_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("timezone: UTC\n")
    monkeypatch.setenv("VIGIL_CONFIG", str(bad))
    code, out = _doctor()
    assert code == 1
    assert "FAIL  config: config error: channels: required key is missing" in out
    assert "run `vigil db upgrade`" in out


@pytest.mark.usefixtures("operator_env")
@pytest.mark.parametrize("token_state", ["missing", "refused"])
def test_the_secret_is_checked_whatever_the_token_and_the_rest_says_skipped(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, token_state: str
) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    if token_state == "missing":
        monkeypatch.delenv("SLACK_BOT_TOKEN")
    else:
        fake_slack.fail("auth.test", error="invalid_auth")
    code, out = _doctor()
    assert code == 1
    assert "FAIL  slack secret: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)" in out
    assert "SKIP  slack scopes: skipped (needs a valid token)" in out
    assert "SKIP  channels.approvals: skipped (needs a valid token)" in out
    assert "SKIP  channels.escalations[0]: skipped (needs a valid token)" in out
    assert not fake_slack.calls_of("conversations.info")
    # With the secret set, that line is OK while the token is still wrong.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    if token_state == "refused":
        fake_slack.fail("auth.test", error="invalid_auth")
    code, out = _doctor()
    assert code == 1 and "OK    slack secret: SLACK_SIGNING_SECRET is set (HTTP mode)" in out


@pytest.mark.usefixtures("operator_env")
def test_a_socket_mode_deployment_needs_an_app_level_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-pasted-the-wrong-one")
    assert "FAIL  slack secret: SLACK_APP_TOKEN is not an app-level token" in _doctor()[1]
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0VIGIL01-1-abc")
    code, out = _doctor()
    assert code == 0, out
    assert "OK    slack secret: SLACK_APP_TOKEN is set (Socket Mode" in out


ODD_ANSWERS: list[tuple[str, Any, str]] = [
    ("auth.test", b"<html><body>502 Bad Gateway</body></html>", "FAIL  slack token: unexpected answer from"),
    ("auth.test", b"[1, 2]", "FAIL  slack token: unexpected answer from"),
    (
        "auth.test",
        {"ok": False, "error": "Something <odd> happened!"},
        "FAIL  slack token: unexpected answer",
    ),
    ("auth.test", {"ok": True}, "OK    slack token: valid for ? in team ?"),
    ("conversations.info", {"ok": True}, "FAIL  channels.approvals: C0APR0001: unexpected answer from Slack"),
    (
        "conversations.info",
        {"ok": True, "channel": "C0APR0001"},
        "FAIL  channels.approvals: C0APR0001: unexp",
    ),
    ("conversations.info", b"not json at all", "FAIL  channels.approvals: C0APR0001: unexpected answer from"),
    ("conversations.info", b"[]", "FAIL  channels.approvals: C0APR0001: unexpected answer from Slack"),
    ("conversations.info", b'["a list"]', "FAIL  channels.approvals: C0APR0001: conversations.info failed"),
]


@pytest.mark.usefixtures("operator_env")
@pytest.mark.parametrize(
    ("method", "answer", "says"), ODD_ANSWERS, ids=[f"{m}-{a!r}"[:40] for m, a, _ in ODD_ANSWERS]
)
def test_an_odd_answer_from_slack_is_a_line_not_a_crash(
    fake_slack: FakeSlack, method: str, answer: Any, says: str
) -> None:
    fake_slack.on(method, lambda _args: answer)
    result = CliRunner().invoke(main, ["doctor"])
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    assert says in result.output
    assert "OK    enforcement API" in result.output  # the checks after Slack's still ran

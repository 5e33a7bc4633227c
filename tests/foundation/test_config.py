"""An operator writes vigil.yaml; Vigil either understands it or says which key is wrong."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.harness.world import config_data
from workflows.config import ConfigError, Settings, load_config, parse_config, parse_duration

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_example_config_is_valid() -> None:
    config = load_config(ROOT / "vigil.example.yaml")
    assert config.channels.approvals == "C0APR0001"
    assert timedelta(hours=1) == config.sla.P1
    assert config.enforcement.reason_codes[0] == "spam"
    assert config.playbooks == (ROOT / "playbooks").resolve()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_durations_read_like_people_write_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "1 hour", "h", "0m", "-1h", "1w", "30m1h"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return str(caught.value)


def test_a_bad_sla_names_the_key() -> None:
    data = config_data()
    data["sla"]["P1"] = "soon"
    message = _error(data)
    assert message.startswith("config error: sla.P1: ")
    assert "soon" in message and len(message.splitlines()) == 1


def test_an_unknown_key_is_an_error_naming_it() -> None:
    data = config_data()
    data["channels"]["escalation"] = ["C0ESC0001"]  # a typo of "escalations"
    assert "config error: channels.escalation: unknown key" in _error(data)


def test_missing_channels_are_named() -> None:
    data = config_data()
    del data["channels"]["approvals"]
    assert _error(data) == "config error: channels.approvals: required key is missing"


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("roles", "analysts"), ["alice"], "roles.analysts.0"),
        (("channels", "alerts"), "#alerts", "channels.alerts"),
        (("timezone",), "Mars/Olympus", "timezone"),
        (("digest", "time"), "25:00", "digest.time"),
        (("digest", "weekday"), "someday", "digest.weekday"),
        (("enforcement", "account_id_pattern"), "([", "enforcement.account_id_pattern"),
        (("enforcement", "bulk_max"), 0, "enforcement.bulk_max"),
        (("enforcement", "reason_codes"), ["spam", "spam"], "enforcement.reason_codes"),
        (("reactions", "claim"), "white_check_mark", "reactions"),
    ],
)
def test_bad_values_name_their_key(path: tuple[str, ...], value: object, key: str) -> None:
    data = config_data()
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert f"config error: {key}: " in _error(data)


def test_reactions_accept_colons_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    data = config_data()
    data["reactions"]["claim"] = ":eyes:"
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "vigil.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data))
    config = load_config(path)
    assert config.reactions.claim == "eyes"
    assert config.playbooks == (tmp_path / "conf" / "playbooks").resolve()


def test_a_missing_file_and_broken_yaml_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = Settings()
    assert "xoxb-very-secret" not in repr(settings)
    assert settings.missing_for_serve(socket_mode=False) == ["SLACK_SIGNING_SECRET"]
    assert settings.missing_for_serve(socket_mode=True) == ["SLACK_APP_TOKEN"]

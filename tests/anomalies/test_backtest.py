"""Before changing a threshold, the team replays the stored history: `vigil anomalies backtest`
prints the incidents the detector would have raised, hour by hour as it would have judged
them, and posts and stores nothing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from store.anomalies import Anomaly
from store.jobs import Job
from tests.harness.signal_data import history, load, scam_wave
from tests.harness.vigil import Vigil
from tests.harness.world import config_data

WAVE = datetime.fromisoformat("2026-11-19T14:00:00+00:00")  # a Thursday afternoon
AGAIN = datetime.fromisoformat("2026-11-19T16:00:00+00:00")  # back after one quiet hour


@pytest.fixture
def cli(vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    load(vigil, history() + scam_wave(WAVE) + scam_wave(AGAIN))
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return CliRunner()  # click 8.2 keeps stderr apart (result.stderr)


def test_the_backtest_of_a_known_history_prints_its_incidents_and_posts_nothing(
    vigil: Vigil, cli: CliRunner
) -> None:
    result = cli.invoke(
        main, ["anomalies", "backtest", "--since", "2026-11-09", "--until", "2026-11-23", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.stderr
    incidents = [json.loads(line) for line in result.stdout.splitlines()]
    overall = {"type": "report", "attribute": None, "value": None}
    assert [{k: i[k] for k in ("series", "kind", "start", "end", "expected")} for i in incidents] == [
        {
            "series": overall,
            "kind": "spike",
            "start": "2026-11-19T14:00:00Z",
            "end": "2026-11-19T16:00:00Z",
            "expected": None,
        },
        {
            "series": {"type": "report", "attribute": "country", "value": "US"},
            "kind": "spike",
            "start": "2026-11-19T14:00:00Z",
            "end": "2026-11-19T16:00:00Z",
            "expected": None,
        },
        {
            "series": {"type": "report", "attribute": "reason", "value": "crypto_giveaway"},
            "kind": "new_top_contributor",
            "start": "2026-11-19T14:00:00Z",
            "end": "2026-11-19T16:00:00Z",
            "expected": None,
        },
    ]
    assert all(i["peak_score"] > 4 for i in incidents)
    assert result.stderr.strip().startswith("3 incident(s) over 2.0 week(s)")
    assert "per series per week" in result.stderr

    # Nothing posted, nothing stored, nothing queued.
    assert vigil.slack.calls_of("chat.postMessage") == []
    with vigil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Anomaly)) == 0
        assert session.scalar(select(func.count()).where(Job.kind.like("anomaly%"))) == 0


def test_the_table_names_its_range_and_another_config_can_be_tried(cli: CliRunner, tmp_path: Path) -> None:
    table = cli.invoke(main, ["anomalies", "backtest", "--since", "2026-11-16", "--until", "2026-11-23"])
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == (
        "backtest 2026-11-16 to 2026-11-23 (until exclusive, UTC): 168 hours judged, 6 series"
    )
    assert lines[1].split() == ["series", "kind", "start", "end", "peak_score", "expected"]
    assert lines[2].split()[:4] == ["report", "spike", "2026-11-19T14:00:00Z", "2026-11-19T16:00:00Z"]
    assert len(lines) == 5

    # A team trying a deafer threshold before adopting it.
    other = config_data()
    other["signals"] = {"anomalies": {"threshold": 50}}
    other_file = tmp_path / "other.yaml"
    other_file.write_text(yaml.safe_dump(other))
    deaf = cli.invoke(
        main,
        [
            "anomalies",
            "backtest",
            "--since",
            "2026-11-16",
            "--until",
            "2026-11-23",
            "--config",
            str(other_file),
            "--format",
            "jsonl",
        ],
    )
    assert deaf.exit_code == 0, deaf.stderr
    kinds = [(json.loads(line)["kind"], json.loads(line)["start"]) for line in deaf.stdout.splitlines()]
    # No spike is 50 deviations out; the tactic shift is rank-based, its two hours one incident.
    assert kinds == [("new_top_contributor", "2026-11-19T14:00:00Z")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "July", "--until", "2026-11-23"], "--since 'July' is not a date"),
        (["--since", "2026-11-23", "--until", "2026-11-16"], "--until must be after --since"),
        (["--since", "2026-11-16", "--until", "2026-11-23", "--config", "missing.yaml"], "file not found"),
        (
            ["--since", "2026-11-16", "--until", "2026-11-23", "--format", "csv"],
            "Invalid value for '--format'",
        ),
    ],
)
def test_bad_input_is_refused_with_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(main, ["anomalies", "backtest", *args])
    assert result.exit_code == 2
    assert message in result.stderr

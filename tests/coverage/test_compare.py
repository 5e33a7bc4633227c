"""Stress-testing a mitigation: the live folder and a candidate replayed over the same month
(tests/coverage/history.py), side by side.

live: `pay-watch` (cases naming an acct_pay account).
candidate: `pay-watch`, `broad` (every host report: catches the payment abuse but also the
reversed suspension, the cleared account and the case closed without action) and `cx` (CX
escalations: the phishing weak point)."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from tests.coverage.history import build
from tests.harness.slack_limits import assert_within_limits
from tests.harness.vigil import Vigil
from tests.harness.world import ADMIN, ANALYST, MONDAY, config_data
from workflows.config import parse_config
from workflows.coverage import Coverage
from workflows.coverage.compare import compare
from workflows.enforcement import ReversedSuspensionLabels
from workflows.playbooks import load_rules


def rule(rule_id: str, condition: str, mode: str = "live") -> dict[str, Any]:
    return {
        "id": rule_id,
        "description": f"{rule_id} rule",
        "trigger": "case.created",
        "condition": condition,
        "actions": [{"add_label": rule_id}],
        "mode": mode,
    }


def folders(tmp_path: Path) -> tuple[Path, Path]:
    live, candidate = tmp_path / "playbooks", tmp_path / "candidate"
    pay = rule("pay-watch", "case.text.contains('acct_pay')")
    for folder, rules in (
        (live, [pay]),
        (
            candidate,
            [
                pay,
                rule("broad", "case.text.contains('host_report')", "shadow"),
                rule("cx", "case.text.contains('cx_escalation')"),
            ],
        ),
    ):
        folder.mkdir()
        (folder / "rules.yaml").write_text(
            yaml.safe_dump({"description": "t", "rules": rules}, sort_keys=False)
        )
    return live, candidate


def test_two_folders_side_by_side_with_wrong_hits_and_weak_points(vigil: Vigil, tmp_path: Path) -> None:
    build(vigil.db)
    live, candidate = folders(tmp_path)
    since = MONDAY - timedelta(days=30)
    report = Coverage(vigil.db, vigil.ctx.config, vigil.clock).report(since, MONDAY)
    with vigil.db.read() as session:
        result = compare(
            session,
            load_rules(live),
            load_rules(candidate),
            since,
            MONDAY,
            report,
            [ReversedSuspensionLabels()],
        )
    table = {(r["rule"], Path(r["folder"]).name): r for r in result.table()}
    assert set(table) == {
        ("pay-watch", "playbooks"),
        ("pay-watch", "candidate"),
        ("broad", "candidate"),
        ("cx", "candidate"),
    }
    assert table["pay-watch", "playbooks"] == {
        "rule": "pay-watch",
        "folder": str(live),
        "matched": 2,
        "true_positives": 2,
        "false_positives": 0,
        "precision": 1.0,
        "recall": 0.6667,
    }
    broad = table["broad", "candidate"]
    assert (broad["matched"], broad["true_positives"], broad["false_positives"]) == (5, 2, 3)
    assert (broad["precision"], broad["recall"]) == (0.4, 0.6667)
    assert (table["cx", "candidate"]["true_positives"], table["cx", "candidate"]["recall"]) == (1, 0.3333)

    wrong = {(w.rule_id, tuple(w.accounts), w.why) for w in result.wrongly_hit}
    assert wrong == {
        ("broad", ("acct_legit_1",), "suspension reversed"),
        ("broad", ("acct_legit_2",), "legitimate outlier"),
        ("broad", ("acct_legit_3",), "closed without action"),
    }
    assert {w.folder for w in result.wrongly_hit} == {str(candidate)}

    changes = {w.category: (w.caught, w.caught_compare, w.confirmed, w.change) for w in result.weak_points}
    assert changes == {
        "payment_abuse": (2, 2, 3, 0),
        "fraud": (0, 0, 1, 0),
        "phishing": (0, 1, 1, 1),
        "spam": (0, 0, 2, 0),
    }


@pytest.fixture
def cli(vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    live, candidate = folders(tmp_path)
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump({**config_data(), "playbooks": str(live)}))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    build(vigil.db)
    return live, candidate


def test_vigil_rules_backtest_compare(cli: tuple[Path, Path], tmp_path: Path) -> None:
    _live, candidate = cli
    out = tmp_path / "compare.csv"
    result = CliRunner().invoke(
        main, ["rules", "backtest", "--since", "2026-11-01", "--compare", str(candidate), "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == [
        "rule",
        "folder",
        "matched",
        "true_positives",
        "false_positives",
        "precision",
        "recall",
    ]
    assert f"wrongly hit by {candidate}: 3" in result.output
    assert "broad: CASE-" in result.output and "acct_legit_2 (legitimate outlier)" in result.output
    assert "phishing: 0/1 → 1/1 (+1)" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["rule"] for r in rows] == ["pay-watch", "pay-watch", "broad", "cx"]
    assert rows[2]["false_positives"] == "3" and rows[2]["precision"] == "0.4"

    both = CliRunner().invoke(main, ["rules", "backtest", "--compare", str(candidate), "--rule", "broad"])
    assert both.exit_code == 2 and "--rule and --compare do not go together" in both.output
    missing = CliRunner().invoke(main, ["rules", "backtest", "--compare", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "problem(s)" in missing.output


def test_an_admin_compares_a_candidate_folder_in_slack(make_vigil, tmp_path: Path) -> None:
    live, _candidate = folders(tmp_path)
    vigil = make_vigil(config=parse_config({**config_data(), "playbooks": str(live)}))
    build(vigil.db)
    assert vigil.send.command("/vigil", "backtest candidate 30d", user=ADMIN).status_code == 200
    answer = vigil.slack.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "`broad` · candidate · matched 5 · TP 2 · FP 3 · precision 40% · recall 67%" in shown
    assert "acct_legit_2 (legitimate outlier)" in shown
    assert "*phishing*: 0/1 → 1/1 (+1)" in shown
    assert "phishing +1" in answer["text"]
    assert_within_limits(answer["blocks"])

    for n, text in enumerate(
        ["backtest", "backtest ../etc", "backtest nowhere", "backtest candidate soon"], 2
    ):
        vigil.send.command("/vigil", text, user=ADMIN)
        bad = vigil.slack.wait_for("response_url", count=n)[n - 1].args
        assert bad["response_type"] == "ephemeral" and ":warning:" in bad["text"], text
        assert str(tmp_path) not in bad["text"]

    refused = vigil.send.command("/vigil", "backtest candidate", user=ANALYST).json()
    assert refused["response_type"] == "ephemeral"

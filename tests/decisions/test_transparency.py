"""The half-year's transparency figures, on a history whose every figure is known."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.fakes.enforcement import FakeEnforcement
from tests.decisions.conftest import dsa_config_data
from tests.decisions.test_appeals import appeal, press
from tests.harness.enforcement_steps import approve_and_wait, ask, eventually
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import LEAD_2


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vigil: Vigil, *args: str) -> tuple[int, str]:
    from bot.cli import main

    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(dsa_config_data()), encoding="utf-8")
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    result = CliRunner().invoke(main, ["transparency", "report", *args])
    return result.exit_code, result.output


def uphold(vigil: Vigil, appeal_id: str, reason: str) -> None:
    press(vigil, "appeal_uphold", LEAD_2, appeal_id)
    modal = vigil.slack.wait_for("views.open", where=lambda c: appeal_id in json.dumps(c["view"]))[0]["view"]
    values = {"reason": {"value": {"type": "plain_text_input", "value": reason}}}
    vigil.send.view_submission(
        "appeal_uphold", values, user=LEAD_2, private_metadata=modal["private_metadata"]
    )


def test_the_transparency_report_counts_restrictions_appeals_and_statements(
    make_vigil: VigilFactory,
    fake_enforcement: FakeEnforcement,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_enforcement.add("acct_1", "acct_2", "acct_3", "acct_4")
    desk = make_vigil(fake_enforcement)
    day = desk.clock.now().date()
    ask(desk, accounts="acct_1 acct_2", reason="spam", evidence="links")  # REQ-1: terms of service
    approve_and_wait(desk, 1)
    ask(desk, accounts="acct_3", reason="fraud", evidence="fake listings")  # REQ-2: illegal content
    approve_and_wait(desk, 2)
    ask(desk, accounts="acct_4", reason="spam", evidence="maybe")  # REQ-3: never approved, restricts nothing
    desk.enforce()
    assert desk.ctx.decisions is not None
    assert desk.ctx.decisions.run_until_idle() == 3

    appeal(desk, appeal_id="apl-1", account_id="acct_1", request_id="REQ-1")
    appeal(desk, appeal_id="apl-2", account_id="acct_3", request_id="REQ-2")
    desk.clock.advance(timedelta(hours=10))
    uphold(desk, "apl-1", "spam it was")
    desk.clock.advance(timedelta(hours=20))
    uphold(desk, "apl-2", "fraud it was")
    desk.run_jobs()
    eventually(lambda: len(fake_enforcement.appeal_outcomes) == 2, what="both outcomes told")

    code, out = run(
        tmp_path,
        monkeypatch,
        desk,
        "--since",
        str(day),
        "--until",
        str(day + timedelta(days=2)),
        "--format",
        "json",
    )
    assert code == 0, out
    figures = json.loads(out)
    assert figures["restrictions"]["total"] == 3
    assert figures["restrictions"]["by_category"] == {
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": 1,
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": 2,
    }
    assert figures["restrictions"]["by_decision_ground"] == {
        "DECISION_GROUND_ILLEGAL_CONTENT": 1,
        "DECISION_GROUND_INCOMPATIBLE_CONTENT": 2,
    }
    assert figures["restrictions"]["by_source_type"] == {"SOURCE_VOLUNTARY": 3}
    assert figures["restrictions"]["by_automated_decision"] == {"AUTOMATED_DECISION_NOT_AUTOMATED": 3}
    assert figures["restrictions"]["by_territorial_scope"] == {"DE,FR,NL": 3}
    assert figures["appeals"]["received"] == 2 and figures["appeals"]["decided"] == 2
    assert figures["appeals"]["upheld"] == 2 and figures["appeals"]["overturned"] == 0
    assert figures["appeals"]["median_hours_to_decide"] == 20.0  # 10 h and 30 h
    assert figures["appeals"]["decided_past_deadline"] == 0
    assert figures["statements"]["submitted"] == 3 and figures["statements"]["failed"] == 0

    code, out = run(
        tmp_path,
        monkeypatch,
        desk,
        "--since",
        str(day + timedelta(days=5)),
        "--until",
        str(day + timedelta(days=6)),
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("# transparency report") and "(exclusive)" in lines[0]
    assert lines[1] == "figure,breakdown,value" and "restrictions,,0" in lines

    from bot.cli import main  # the environment run() set: the same config and database

    exported = CliRunner().invoke(
        main,
        ["transparency", "statements", "--since", str(day), "--until", str(day + timedelta(days=1))],
    )
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert len(lines) == 3 and all(line["status"] == "submitted" and line["dsa_id"] for line in lines)
    assert {line["statement"]["puid"] for line in lines} == {
        "vigil-req1-act1",
        "vigil-req1-act2",
        "vigil-req2-act3",
    }

    code, out = run(tmp_path, monkeypatch, desk, "--since", "2026-12-31", "--until", "2026-07-01")
    assert code == 2 and "--until must be after --since" in out
    code, out = run(tmp_path, monkeypatch, desk, "--since", "last week", "--until", "2026-07-01")
    assert code == 2 and "--since 'last week'" in out

"""Signals meet playbooks and enforcement: reports and signals fire rules, a rule opens an
investigation, and the investigation shows the account's enforcement history and rule hits."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store.investigations import Investigation
from store.playbooks import RuleHit
from store.signals import Report
from tests.harness.enforcement_steps import approve_and_wait, ask, request_row
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ALERTS, ANALYST, MONDAY, config_data
from workflows.config import Settings, VigilConfig, parse_config

TOKEN = "sig-test-token"
RULES = [
    {
        "id": "scam-report",
        "description": "reports of scams label the case and tell the alerts channel",
        "trigger": "report.received",
        "condition": "report.reason == 'scam' && account.reports_24h >= 1",
        "actions": [{"add_label": "scam_reported"}, {"route": "alerts"}],
    },
    {
        "id": "model-says-fraud",
        "description": "a very high fraud model score opens an investigation",
        "trigger": "signal.ingested",
        "condition": "signal.type == 'model_score' && signal.value >= 0.95",
        "actions": [{"open_investigation": True}],
    },
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"vigil_signals_token": SecretStr(TOKEN)})


@pytest.fixture
def config(tmp_path: Path) -> VigilConfig:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "signals.yaml").write_text(yaml.safe_dump({"rules": RULES}))
    return parse_config({**config_data(), "playbooks": str(folder)})


def send(vigil: Vigil, signals: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        f"{vigil.server.url}/api/v1/signals",
        content=json.dumps({"signals": signals}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )


def at(minutes_ago: int) -> str:
    return (MONDAY - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def hits(vigil: Vigil, rule: str) -> list[RuleHit]:
    with vigil.db.read() as session:
        return list(session.scalars(select(RuleHit).where(RuleHit.rule_id == rule)))


def test_a_scam_report_labels_its_case_and_is_routed(vigil: Vigil) -> None:
    ts = vigil.post("host acct_31 asked a guest to pay by wire transfer")
    eventually(lambda: vigil.ctx.cases.by_source("C0ESC0001", ts))
    report = {
        "id": "r-1",
        "type": "report",
        "account_id": "acct_31",
        "occurred_at": at(5),
        "attributes": {"reporter": "guest_9", "reason": "scam", "text": "asked me to wire money"},
    }
    other = {**report, "id": "r-2", "account_id": "acct_32", "attributes": {"reason": "spam"}}
    assert send(vigil, [report, other]).status_code == 200
    hit = eventually(lambda: hits(vigil, "scam-report"))[0]
    assert hit.account_id == "acct_31" and hit.subject_id.startswith("report:") and hit.mode == "live"
    case = vigil.ctx.cases.by_source("C0ESC0001", ts)
    assert case is not None and case.labels == ["scam_reported"]
    routed = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert "matched playbook rule scam-report" in routed["text"]
    with vigil.db.read() as session:
        assert session.scalars(select(Report.case_id).where(Report.account_id == "acct_31")).one() == case.id
    assert len(hits(vigil, "scam-report")) == 1  # the spam report matched nothing


def test_a_fraud_score_opens_an_investigation_that_shows_history_and_rules(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_77")
    vigil = make_vigil(fake_enforcement)
    ask(vigil, accounts="acct_77", reason="fraud")
    approve_and_wait(vigil)
    vigil.enforce()
    eventually(lambda: request_row(vigil).status == "completed")
    low = {"id": "s-1", "type": "model_score", "account_id": "acct_76", "occurred_at": at(3), "value": 0.2}
    high = {"id": "s-2", "type": "model_score", "account_id": "acct_77", "occurred_at": at(2), "value": 0.97}
    assert send(vigil, [low, high]).status_code == 200

    def opened() -> Investigation | None:
        with vigil.db.read() as session:
            return session.scalars(select(Investigation)).first()

    investigation = eventually(opened)
    assert investigation.account_id == "acct_77" and investigation.opened_by == "rule:model-says-fraud"
    message = vigil.slack.wait_for(
        "chat.postMessage", where=lambda c: c["channel"] == ALERTS and "INV-1" in json.dumps(c.get("blocks"))
    )[0]
    shown = json.dumps(message["blocks"])
    assert "REQ-1" in shown  # the enforcement ledger
    assert "model-says-fraud" in shown  # the rule that matched
    assert "`rule:model-says-fraud`" in shown and "<@rule:" not in shown
    assert [h.account_id for h in hits(vigil, "model-says-fraud")] == ["acct_77"]
    vigil.send.command("/vigil", "investigate acct_77", user=ANALYST)  # already open: shown, not reopened
    with vigil.db.read() as session:
        assert len(session.scalars(select(Investigation)).all()) == 1


def test_the_weekly_review_counts_investigations_and_anomalies(vigil: Vigil) -> None:
    from commands.blocks.reports import digest_blocks

    opened = vigil.ctx.investigations.open("acct_5", ANALYST, channel=None)
    assert opened.investigation is not None
    vigil.ctx.investigations.record_outcome(opened.investigation.id, ANALYST, "abuse_confirmed", "ring")
    vigil.ctx.investigations.open("acct_6", ANALYST, channel=None)
    vigil.clock.advance(timedelta(days=7))  # the next Monday: last week is the last full week
    week = vigil.ctx.reports.period_of("weekly", "2026-W48")
    text = json.dumps(digest_blocks(vigil.ctx.reports.digest(week))[1])
    assert "No investigations recorded" not in text
    assert "abuse confirmed" in text.lower().replace("_", " ")

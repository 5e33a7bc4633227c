"""Cases, enforcement and playbooks, together: a suspension asked from a case shows on the
case; a playbook can ask for one more approver; what was enforced feeds rule conditions;
a suspension later reversed counts against the rule that recommended it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store.cases import Case, CaseEvent
from tests.harness.enforcement_steps import approve_and_wait, ask, card, click, in_thread, request_row
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ANALYST, LEAD, LEAD_2, config_data
from workflows.config import VigilConfig, parse_config
from workflows.enforcement import ReversedSuspensionLabels
from workflows.playbooks import CaseOutcomeLabels, backtest, load_rules

RULES = [
    {
        "id": "big-fraud-needs-two",
        "description": "fraud suspensions of more than two accounts get a second approver",
        "trigger": "enforcement.requested",
        "condition": "request.reason_code == 'fraud' && request.count > 2",
        "actions": [
            {"require_second_review": "bulk fraud suspensions are checked twice"},
            {"recommend": "compare payment fingerprints before approving"},
        ],
    },
    {
        "id": "already-actioned",
        "description": "an account acted on this week",
        "trigger": "case.created",
        "condition": "account.enforcement_actions_7d > 0",
        "actions": [{"add_label": "recently_enforced"}],
    },
]


@pytest.fixture
def config(tmp_path: Path) -> VigilConfig:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "enforcement.yaml").write_text(yaml.safe_dump({"rules": RULES}))
    return parse_config({**config_data(), "playbooks": str(folder)})


def case_at(vigil: Vigil, ts: str) -> Case:
    def find() -> Case | None:
        with vigil.db.read() as session:
            return session.scalars(select(Case).where(Case.ts == ts)).first()

    return eventually(find)


def case_events(vigil: Vigil, case_id: int) -> list[tuple[str, dict[str, Any]]]:
    with vigil.db.read() as session:
        rows = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [(e.kind, dict(e.data)) for e in rows]


def test_a_suspension_asked_from_a_case_shows_on_the_case_timeline(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_31")
    vigil = make_vigil(fake_enforcement)
    case = case_at(vigil, vigil.post("host acct_31 is phishing guests"))
    ask(vigil, accounts="acct_31", reason="phishing", evidence=f"{case.ref} screenshots")
    approve_and_wait(vigil)
    vigil.enforce()
    eventually(lambda: request_row(vigil).status == "completed")
    kinds = [kind for kind, _ in case_events(vigil, case.id)]
    assert {"enforcement.requested", "enforcement.approved", "enforcement.completed"} <= set(kinds)
    requested = next(data for kind, data in case_events(vigil, case.id) if kind == "enforcement.requested")
    assert requested["request"] == "REQ-1" and requested["accounts"] == 1
    assert not [
        k for k in kinds if k.startswith("enforcement.action.")
    ]  # per-account results stay on the request
    vigil.send.command("/vigil", f"case {case.ref}", user=ANALYST)
    assert "enforcement.approved" in json.dumps(vigil.slack.wait_for("response_url")[0]["blocks"])


def test_a_playbook_asks_for_one_more_approver_on_a_bulk_fraud_suspension(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2 acct_3", reason="fraud")
    posted = json.dumps(card(vigil)["blocks"])
    assert "One more approval required: bulk fraud suspensions are checked twice" in posted
    assert "compare payment fingerprints before approving" in posted and "big-fraud-needs-two" in posted
    assert request_row(vigil).approvals_needed == 2
    click(vigil, "enforcement_approve", user=LEAD)
    eventually(lambda: request_row(vigil).approvals_count == 1)
    assert request_row(vigil).status == "pending_approval"
    click(vigil, "enforcement_approve", user=LEAD_2)
    eventually(lambda: request_row(vigil).status != "pending_approval")
    # A small spam request is untouched.
    ask(vigil, accounts="acct_9", reason="spam")
    eventually(lambda: request_row(vigil, 2) is not None)
    assert request_row(vigil, 2).approvals_needed == 1 and request_row(vigil, 2).second_review is None


def test_what_was_enforced_feeds_rule_conditions(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_77")
    vigil = make_vigil(fake_enforcement)
    ask(vigil, accounts="acct_77", reason="spam")
    approve_and_wait(vigil)
    vigil.enforce()
    eventually(lambda: request_row(vigil).status == "completed")
    in_thread(vigil, "acct_77")
    vigil.clock.advance(timedelta(hours=1))
    case = case_at(vigil, vigil.post("user acct_77 is back with a new listing"))
    assert case.labels == ["recently_enforced"]
    with vigil.db.read() as session:
        features = vigil.ctx.features.for_account(session, "acct_77", vigil.clock.now())
    assert features["enforcement_actions_7d"] == 1 and features["suspended"] is True


def test_a_reversed_suspension_counts_against_the_rule_in_a_backtest(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement, tmp_path: Path
) -> None:
    fake_enforcement.add("acct_5")
    vigil = make_vigil(fake_enforcement)
    case = case_at(vigil, vigil.post("host acct_5 runs a crypto giveaway"))
    ask(vigil, accounts="acct_5", reason="fraud", evidence=case.ref)
    approve_and_wait(vigil)
    vigil.enforce()
    eventually(lambda: request_row(vigil).status == "completed")
    vigil.ctx.cases.resolve(case.id, ANALYST, "actioned")
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    (candidate / "p.yaml").write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "id": "giveaway",
                        "description": "giveaways",
                        "trigger": "case.created",
                        "condition": "case.text.contains('giveaway')",
                        "actions": [],
                    }
                ]
            }
        )
    )
    rules = load_rules(candidate)
    labels = CaseOutcomeLabels([ReversedSuspensionLabels()])
    since, until = vigil.clock.now() - timedelta(days=1), vigil.clock.now() + timedelta(days=1)
    with vigil.db.read() as session:
        before = backtest(session, rules, since, until, vigil.ctx.features, labels=labels)[0]
    assert (before.true_positives, before.false_positives) == (1, 0)
    # The appeal succeeds: the account is reinstated, reversing the suspension.
    vigil.clock.advance(timedelta(days=2))
    answer = ask(
        vigil,
        action="reinstate",
        accounts="acct_5",
        reason="other",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="legitimate promotional event, verified",
    )
    assert answer.status_code == 200 and not answer.content, answer.text
    approve_and_wait(vigil, request_id=2)
    vigil.enforce()
    eventually(lambda: request_row(vigil, 2).status == "completed")
    with vigil.db.read() as session:
        after = backtest(session, rules, since, until + timedelta(days=2), vigil.ctx.features, labels=labels)[
            0
        ]
    assert (after.true_positives, after.false_positives) == (0, 1)

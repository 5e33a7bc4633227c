"""QA sampling: every day a share of yesterday's decisions goes to someone else for a blind
re-review; the agreement it shows per category is what the team calibrates on."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from store.cases import Case
from store.decisions import AppealRow, QaReview
from tests.decisions.conftest import dsa_config_data
from tests.harness.enforcement_steps import approve_and_wait, ask, eventually
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import ADMIN, ANALYST, ANALYST_2, LEAD, LEAD_2
from workflows.config import parse_config
from workflows.decisions.qa import Item, assign, stratified_sample


def items(category: str, decider: str, n: int, start: int) -> list[Item]:
    return [
        Item("case", start + i, f"CASE-{start + i}", category, "actioned", decider, frozenset({decider}))
        for i in range(n)
    ]


def test_the_sample_is_stratified_by_category_and_decider() -> None:
    population = items("spam", "U1", 60, 0) + items("fraud", "U2", 30, 100) + items("spam", "U2", 10, 200)
    sample = stratified_sample(population, 0.1, seed=7)
    assert len(sample) == 10
    assert Counter((i.category, i.decider) for i in sample) == {
        ("spam", "U1"): 6,
        ("fraud", "U2"): 3,
        ("spam", "U2"): 1,
    }
    assert sample == stratified_sample(population, 0.1, seed=7)  # the same day draws the same items
    small = stratified_sample(items("spam", "U1", 3, 0) + items("fraud", "U2", 1, 10), 0.05, seed=1)
    assert len(small) == 1  # ceil(5% of 4): a quiet day still gets one re-review


def test_nobody_re_reviews_their_own_decision_nor_more_than_the_daily_maximum() -> None:
    sample = items("spam", "U1", 5, 0) + items("spam", "U2", 5, 10)
    assigned = assign(sample, ["U1", "U2", "U3"], max_per_day=3, load={"U3": 1})
    assert all(reviewer != item.decider for item, reviewer in assigned if reviewer)
    load = Counter(reviewer for _, reviewer in assigned if reviewer)
    assert load["U1"] <= 3 and load["U2"] <= 3 and load["U3"] <= 2
    assert sum(1 for _, reviewer in assigned if reviewer is None) == 10 - sum(load.values())
    assert assign(items("spam", "U1", 1, 0), ["U1"], 5, {}) == [(items("spam", "U1", 1, 0)[0], None)]


def answer(vigil: Vigil, review: QaReview, outcome: str, category: str) -> str:
    assert review.reviewer is not None
    pressed = vigil.send.block_action(
        "qa_review_open", str(review.id), user=review.reviewer, channel=review.reviewer
    )
    assert pressed.status_code == 200
    modal = vigil.slack.wait_for(
        "views.open", where=lambda c: f"{review.item_ref}*" in json.dumps(c["view"])
    )[0]["view"]
    values = {
        "outcome": {"value": {"type": "static_select", "selected_option": {"value": outcome}}},
        "category": {"value": {"type": "static_select", "selected_option": {"value": category}}},
        "would_action": {"value": {"type": "static_select", "selected_option": {"value": "yes"}}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }
    done = vigil.send.view_submission(
        "qa_review", values, user=review.reviewer, private_metadata=modal["private_metadata"]
    )
    assert done.status_code == 200
    return json.dumps(modal)


def test_a_day_of_decisions_is_re_reviewed_blind_and_agreement_is_counted_per_category(
    make_vigil: VigilFactory,
    fake_enforcement: FakeEnforcement,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = dsa_config_data()
    data["qa"] = {"rate": 1.0, "max_per_day": 2}
    desk = make_vigil(fake_enforcement, config=parse_config(data))
    fake_enforcement.add("acct_1", "acct_2", "acct_3")
    ask(desk, accounts="acct_1 acct_2", reason="spam", evidence="links")  # asked by ANALYST
    approve_and_wait(desk, 1, user=LEAD)
    ask(desk, accounts="acct_3", reason="fraud", evidence="fake flats")
    approve_and_wait(desk, 2, user=LEAD)
    desk.enforce()
    desk.post("user report: acct_9 sends spam links")
    eventually(lambda: desk.ctx.cases.get(1) is not None, what="the case")
    desk.ctx.cases.resolve(1, ANALYST_2, "no_action")
    day = desk.clock.now().astimezone(desk.ctx.config.tz).date()
    desk.clock.advance(timedelta(days=1))

    assert desk.ctx.qa is not None
    run = desk.ctx.qa.sample_day(day)
    assert (run.candidates, run.sampled) == (4, 4)
    with desk.db.read() as session:
        reviews = list(session.scalars(select(QaReview).order_by(QaReview.id)))
    for review in reviews:
        if review.kind == "action":
            assert review.reviewer not in (ANALYST, LEAD)  # neither the requester nor the approver
        else:
            assert review.reviewer != ANALYST_2
    load = Counter(r.reviewer for r in reviews if r.reviewer)
    assert max(load.values()) <= 2 and set(load) <= {ANALYST, ANALYST_2, LEAD_2, LEAD}
    assert all(r.reviewer for r in reviews)
    assert desk.ctx.qa.sample_day(day).sampled == 4  # a second run adds nothing
    assert ADMIN not in load

    desk.run_jobs()
    for review in reviews:
        if review.reviewer:
            desk.slack.wait_for(
                "chat.postMessage",
                where=lambda c, r=review: c.get("channel") == r.reviewer and r.item_ref in str(c.get("text")),
            )

    # The reviewer's App Home lists the re-reviews waiting for them.
    desk.send.event({"type": "app_home_opened", "user": LEAD_2, "tab": "home"})
    home = desk.slack.wait_for("views.publish", where=lambda c: c.get("user_id") == LEAD_2)[0]
    shown = json.dumps(home["view"])
    assert "QA queue" in shown and "qa_review_open" in shown
    assert all(r.item_ref in shown for r in reviews if r.reviewer == LEAD_2)

    answered = [r for r in reviews if r.reviewer]
    actions = [r for r in answered if r.kind == "action"]
    spam_actions = [r for r in actions if r.category == "spam"]
    modal = answer(desk, spam_actions[0], "actioned", "spam")  # agrees
    assert "initial_option" not in modal and LEAD not in modal  # blind: neither decision nor decider shown
    answer(desk, spam_actions[1], "no_action", "spam")  # disagrees
    [fraud] = [r for r in actions if r.category == "fraud"]
    answer(desk, fraud, "actioned", "phishing")  # same outcome, other category
    reveal = desk.slack.wait_for("chat.postMessage", where=lambda c: "You disagreed" in str(c.get("text")))[0]
    assert "Original decision: actioned (spam)" in reveal["text"]
    assert "qa_escalate" in json.dumps(reveal["blocks"])

    # One click turns the disagreement into an appeal-style review, decided by someone independent.
    dissenter = spam_actions[1].reviewer or ""
    escalate = desk.send.block_action(
        "qa_escalate", str(spam_actions[1].id), user=dissenter, channel=dissenter
    )
    assert escalate.status_code == 200
    escalated = desk.slack.wait_for(
        "chat.postMessage", where=lambda c: "Escalated: CASE-" in str(c.get("text"))
    )[0]
    with desk.db.read() as session:
        review_case = session.scalars(
            select(AppealRow).where(AppealRow.appeal_id == f"qa-{spam_actions[1].id}")
        ).one()
        assert review_case.internal and f"CASE-{review_case.case_id}" in escalated["text"]
        case_row = session.get(Case, review_case.case_id)
        assert case_row is not None and case_row.category == "appeal"
    assert desk.ctx.appeals is not None
    desk.ctx.appeals.uphold(f"qa-{spam_actions[1].id}", ADMIN, "the links were spam")
    desk.run_jobs()
    assert fake_enforcement.appeal_outcomes == []  # raised inside the team: the platform is not told
    again_escalate = desk.send.block_action(
        "qa_escalate", str(spam_actions[0].id), user=spam_actions[0].reviewer or "", channel="D2"
    )
    assert again_escalate.status_code == 200
    desk.slack.wait_for("chat.postEphemeral", where=lambda c: "Only a disagreement" in str(c.get("text")))

    start = desk.clock.now() - timedelta(days=3)
    end = desk.clock.now() + timedelta(days=1)
    figures = {k: (n, a) for k, n, a in desk.ctx.qa.agreement(start, end)}
    assert figures == {"spam": (2, 1), "fraud": (1, 1)}  # the case is not answered yet: not counted

    from bot.cli import main

    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", desk.db.url)
    since, until = str(day - timedelta(days=1)), str(day + timedelta(days=3))
    result = CliRunner().invoke(main, ["qa", "agreement", "--since", since, "--until", until])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "category,answered,agreed,agreement",
        "fraud,1,1,1.00",
        "spam,2,1,0.50",
    ]
    by_reviewer = CliRunner().invoke(
        main, ["qa", "agreement", "--since", since, "--until", until, "--by", "reviewer"]
    )
    assert by_reviewer.exit_code == 0 and "reviewer,answered,agreed,agreement" in by_reviewer.output

    again = desk.send.block_action(
        "qa_review_open", str(spam_actions[0].id), user=spam_actions[0].reviewer or "", channel="D1"
    )
    assert again.status_code == 200
    desk.slack.wait_for("chat.postMessage", where=lambda c: "answered already" in str(c.get("text")))

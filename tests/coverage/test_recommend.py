"""The weekly digest's coverage section and the recommendations generated from the figures,
each pointing at its evidence. The shadow rule `pay-velocity` matched two of the three
payment_abuse accounts and one account whose suspension was reversed."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.coverage.history import build, h, rule_hit
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, MONDAY
from workflows.coverage import Coverage

PAY_ADVICE = (
    "`payment_abuse` is found by reports 67% of the time, median 10 h after the first signal; "
    "the shadow rule `pay-velocity` would have caught 67% with 1 wrong hit: consider making it live"
)


def shadow_history(vigil: Vigil) -> None:
    build(vigil.db)
    with vigil.db.transaction() as s:
        rule_hit(s, "acct_pay_2", "pay-velocity", h(25), "shadow")
        rule_hit(s, "acct_legit_1", "pay-velocity", h(1), "shadow")


def test_recommendations_come_from_the_figures_with_their_evidence(vigil: Vigil) -> None:
    shadow_history(vigil)
    service = Coverage(vigil.db, vigil.ctx.config, vigil.clock)
    report = service.report(MONDAY - timedelta(days=30), MONDAY)
    pay, fraud, phishing = service.recommendations(report)
    assert pay.text == PAY_ADVICE
    assert [e.ref for e in pay.evidence][:2] == ["rep-91", "CASE-1"] and pay.evidence[
        -1
    ].ref == "pay-velocity"
    assert fraud.text.startswith(
        "`fraud` is found by analysts' own investigations 100% of the time, median 3 h"
    )
    assert "no rule matched 1 of 1: consider a rule for it" in fraud.text
    assert phishing.text.startswith("`phishing` is found by CX escalations 100% of the time")


def test_the_digest_has_a_coverage_section(vigil: Vigil) -> None:
    shadow_history(vigil)
    vigil.send.command("/vigil", "digest preview 2026-W46", user=ANALYST)
    answer = vigil.slack.wait_for("response_url")[0].args
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert (
        "*Detection coverage* · 7 confirmed abuse: 43% found by automation (none confirmed in the 4 weeks "
        "before), 57% by people; median delay 6 h" in shown
    )
    assert "_Weak points:_ 1. payment_abuse: 2 of 3 found only by people" in shown
    assert PAY_ADVICE.replace("`", "\\u0060") in shown or PAY_ADVICE in shown
    assert "(evidence: rep-91, CASE-1" in shown


def test_slash_coverage_and_the_cli_table_carry_the_recommendations(vigil: Vigil) -> None:
    shadow_history(vigil)
    vigil.send.command("/vigil", "coverage 30d", user=ANALYST)
    shown = json.dumps(vigil.slack.wait_for("response_url")[0].args["blocks"], ensure_ascii=False)
    assert "*Recommendations*" in shown and "consider making it live" in shown

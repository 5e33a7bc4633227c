"""The weekly digest counts the tooling gaps: actions that needed manual execution this week
and how long they waited, and the hand-offs to Engineering still open, oldest first."""

from __future__ import annotations

import json
from datetime import timedelta

from store.enforcement import EnforcementAction, EnforcementRequest
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ANALYST, ENGINEER, ESCALATIONS, MONDAY
from workflows.handoff import Requirement

WEEK_START = MONDAY - timedelta(days=7, hours=10)  # Mon 16 Nov 00:00 UTC


def manual(vigil: Vigil, n: int, approved_h: float, done_h: float | None) -> None:
    approved = WEEK_START + timedelta(hours=approved_h)
    with vigil.db.transaction() as s:
        request = EnforcementRequest(
            action="suspend",
            status="approved",
            requester=ANALYST,
            reason_code="spam",
            account_count=1,
            approvals_needed=1,
            source="slack",
            created_at=approved,
            updated_at=approved,
            decided_at=approved,
            manual=True,
        )
        s.add(request)
        s.flush()
        done = WEEK_START + timedelta(hours=done_h) if done_h is not None else None
        s.add(
            EnforcementAction(
                request_id=request.id,
                account_id=f"acct_m{n}",
                action="suspend",
                idempotency_key=f"vigil:REQ-{request.id}:acct_m{n}:suspend",
                status="done" if done else "awaiting_manual",
                executed_by=ENGINEER if done else None,
                created_at=approved,
                updated_at=done or approved,
                finished_at=done,
            )
        )


def test_the_digest_lists_open_handoffs_and_manual_execution_waits(vigil: Vigil) -> None:
    manual(vigil, 1, 10, 14)  # waited 4 h
    manual(vigil, 2, 20, 30)  # waited 10 h
    manual(vigil, 3, 30, 36)  # waited 6 h
    manual(vigil, 4, 150, None)  # approved Sun 06:00, still waiting at the week's end: 18 h
    vigil.clock.set(WEEK_START + timedelta(days=3))
    vigil.ctx.handoffs.send(
        Requirement(
            subject_type="enforcement",
            subject_ref="REQ-4",
            title="Suspensions need tooling",
            problem="Manual suspensions wait for an engineer",
        ),
        ANALYST,
        ESCALATIONS,
        "1764000000.000100",
    )
    eventually(lambda: vigil.slack.calls_of("chat.postMessage"))
    vigil.clock.set(MONDAY)
    vigil.send.command("/vigil", "digest preview 2026-W47", user=ANALYST)
    shown = json.dumps(vigil.slack.wait_for("response_url")[0].args["blocks"], ensure_ascii=False)
    assert "*Hand-offs to Engineering*" in shown
    assert "HO-1 Suspensions need tooling · not ticketed yet · open 96 h" in shown
    assert (
        "Manual enforcement (no tooling): 3 action(s) executed by hand this week, median wait 6 h, "
        "longest 10 h; 1 still waiting (oldest 18 h)" in shown
    )

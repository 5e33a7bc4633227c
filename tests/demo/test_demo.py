"""A T&S lead with no Slack workspace runs `vigil demo` and watches a week unfold: the real app,
the fake Slack and the fake enforcement API, an accelerated clock. The story is judged by what
it left in the store and in Slack, never by its wording."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from sqlalchemy import func, select

from bot.cli import main
from bot.demo.runner import DemoResult, run_demo
from bot.demo.scenes import SCENES
from store.cases import Case
from store.db import Database
from store.enforcement import EnforcementRequest

PNG = b"\x89PNG\r\n\x1a\n"


def play(
    tmp_path: Path, name: str, db_url: str | None = None, seed: int = 7, pauses: list[str] | None = None
) -> DemoResult:
    screen = io.StringIO()
    result = run_demo(
        seed=seed,
        step=pauses is not None,
        pause=(pauses if pauses is not None else []).append,
        db_url=db_url,
        out=tmp_path / name,
        workdir=tmp_path / f"{name}-work",
        console=Console(file=screen, width=120),
    )
    assert "Where to look next" in screen.getvalue()
    return result


@pytest.mark.timeout(400)
def test_the_demo_week_ends_as_a_real_week_would_and_the_same_seed_plays_it_again(
    tmp_path: Path, fresh_db_url: str
) -> None:
    pauses: list[str] = []
    first = play(tmp_path, "first", db_url=fresh_db_url, pauses=pauses)
    o = first.outcomes
    assert len(pauses) == len(SCENES) - 1  # --step: a pause between scenes

    # Escalations of every kind became cases, and every one was resolved.
    db = Database(first.db_url)
    try:
        with db.read() as session:
            categories = set(session.scalars(select(Case.category)))
            assert session.scalar(select(func.count()).select_from(Case)) == o["cases"] >= 7
            requests = list(session.scalars(select(EnforcementRequest).order_by(EnforcementRequest.id)))
    finally:
        db.dispose()
    assert {"cx_escalation", "host_report", "suspension_request"} <= categories
    assert o["open_cases"] == 0

    # Three requests: the four-eyes suspension, the bulk, the reinstatement that reverses the first.
    assert [(r.action, r.status) for r in requests] == [
        ("suspend", "completed"),
        ("suspend", "completed"),
        ("reinstate", "completed"),
    ]
    assert (requests[0].requester, requests[0].decided_by) == ("U0LEAD001", "U0LEAD002")  # not her own
    assert (requests[1].approvals_needed, requests[1].approvals_count) == (2, 2)  # over 1,000: two
    assert requests[2].reverses_request_id == requests[0].id
    # The bulk: every one of the 2,000 accounts called exactly once.
    assert o["bulk_accounts"] == 2000 and o["bulk_called_once"] == 2000 and o["bulk_called_twice"] == 0

    assert o["investigations"] == 1

    # Offline AI: Ana's Summarise click ran one summary job, posted once in the case's thread.
    assert o["summaries"] == ["done"] and o["summary_posts_in_thread"] == 1
    # The scam template: found by the hourly job, stored as one pattern, posted once, named;
    # Draft a rule stored one backtested shadow rule and posted it in the alert's thread.
    (campaign,) = [p for p in o["patterns"] if p["named"]]
    assert campaign == {"ref": "PAT-1", "kind": "template", "status": "posted", "named": True, "posts": 1}
    assert all(p["posts"] <= 1 for p in o["patterns"])
    assert o["rule_drafts"] == [{"pattern": "PAT-1", "rule": "pattern-1", "backtested": True}]
    assert o["draft_posts_in_thread"] == 1
    # The spike's incidents: each posted once, updated in place, closed with a reply in its thread.
    closed = {"state": "closed", "posted": True, "updated": True, "closing_reply": True}
    assert o["incidents"] and all(i == closed for i in o["incidents"])
    assert o["rule_hits"].get("live", 0) >= 1 and o["rule_hits"].get("shadow", 0) >= 1

    # Statements of reasons: one per suspended account, drafted at request, frozen at approval
    # (kept, not submitted: no Transparency Database here); none left a draft.
    statements = o["statements"]
    assert statements[requests[0].id] == {"frozen": 2}
    assert statements[requests[1].id] == {"frozen": 2000}
    assert requests[2].id not in statements  # a reinstatement has none
    # The appeal against the four-eyes suspension: a case of its own, the approver refused,
    # upheld by someone who took no part in the request, and the platform told once.
    (appeal,) = o["appeals"]
    assert appeal["category"] == "appeal" and appeal["request"] == f"REQ-{requests[0].id}"
    assert appeal["outcome"] == "upheld" and appeal["decided_by"] not in appeal["took_part"]
    assert appeal["took_part"] == ["U0LEAD001", "U0LEAD002"]
    assert len(o["appeal_refusals"]) == 1 and "decided by someone else" in o["appeal_refusals"][0]
    assert o["appeal_outcomes_told"] == [(appeal["appeal_id"], "upheld")]
    # /vigil coverage's top weak point sent to Engineering: stored once, posted once (no Jira).
    (handoff,) = o["handoffs"]
    assert handoff["subject"].startswith("coverage:") and handoff["requested_by"] == "U0LEAD001"
    assert handoff["posts"] == 1
    assert o["weekly_digests"] == [("2026-W48", "posted")] and o["digest_posts"] == 1
    assert o["audit_ok"] and o["audit_rows"] > 2000

    # The charts as PNGs (the digest's two among them), and a self-contained page.
    digest_charts = [p for p in first.charts if p.name.startswith("digest-")]
    assert len(digest_charts) == 2 and all(p.read_bytes().startswith(PNG) for p in first.charts)
    page = first.html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(first.charts)
    assert not re.search(r"""(src|href)=['"]?https?://""", page)  # nothing loaded from outside

    # Again, with the same seed (on SQLite whatever the first ran on): the same week. Only the
    # audit chain's head hash may differ: the bulk's 2,000 concurrent calls are recorded in the
    # order they returned.
    second = play(tmp_path, "second")
    assert _masked(second.transcript) == _masked(first.transcript)
    assert second.outcomes["cases"] == o["cases"]


def _masked(transcript: str) -> str:
    return re.sub(r"head `[0-9a-f]+…`", "head `…`", transcript)


def test_vigil_demo_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--db", "nosuchdb://x", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "vigil demo: cannot use --db" in result.output
    help_text = CliRunner().invoke(main, ["demo", "--help"]).output
    for option in ("--seed", "--step", "--db", "--out"):
        assert option in help_text

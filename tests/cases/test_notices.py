"""A case's notices (escalated, 75% nudge, breach) travel as a code and fields; the Slack
adapter words them, exactly as before, and a job queued as text by an earlier version is
posted as written."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import workflows.cases
from commands.blocks.cases import notice_text
from workflows.cases.jobs import notice_of
from workflows.cases.views import CaseNotice, CaseView

START = datetime(2026, 11, 23, 10, tzinfo=UTC)
CASE = CaseView(
    id=4,
    ref="CASE-4",
    channel="C0ESC0001",
    ts="1764000000.000100",
    source="channel",
    author=None,
    text="",
    category="other",
    priority="P1",
    status="claimed",
    outcome=None,
    escalations=1,
    created_at=START,
    sla_due_at=START + timedelta(hours=1),
    claimed_by="U0ANA0002",
    claimed_at=START,
    resolved_by=None,
    resolved_at=None,
    card_ts=None,
    permalink=None,
    source_deleted=False,
)


@pytest.mark.parametrize(
    ("notice", "text"),
    [
        (
            CaseNotice("escalated", {"from": "P3", "to": "P2", "by": "U0ANA0001"}),
            "CASE-4 escalated P3 → P2 by <@U0ANA0001>",
        ),
        (
            CaseNotice("escalated", {"from": "P1", "to": "P1", "by": "U0ANA0001"}),
            "CASE-4 escalated again at P1 by <@U0ANA0001>",
        ),
        (
            CaseNotice("sla_breached", {"priority": "P2", "owner": None}),
            ":rotating_light: CASE-4 (P2) breached its SLA, unclaimed.",
        ),
        (
            CaseNotice("sla_breached", {"priority": "P2", "owner": "U0ANA0001"}),
            ":rotating_light: CASE-4 (P2) breached its SLA, claimed by <@U0ANA0001>.",
        ),
        (
            CaseNotice("sla_nudged", {"priority": "P3", "owner": None}),
            ":hourglass_flowing_sand: CASE-4 is 75% through its P3 SLA. Nobody has claimed it yet.",
        ),
        (
            CaseNotice("sla_nudged", {"priority": "P3", "owner": "U0ANA0001"}),
            ":hourglass_flowing_sand: CASE-4 is 75% through its P3 SLA. <@U0ANA0001>.",
        ),
        (
            CaseNotice("text", {"text": "CASE-4 escalated P3 → P2 by <@U0X>"}),
            "CASE-4 escalated P3 → P2 by <@U0X>",
        ),
    ],
)
def test_notices_read_as_they_always_did(notice: CaseNotice, text: str) -> None:
    assert notice_text(CASE, notice) == text


def test_the_fields_are_as_queued_not_as_the_case_is_now() -> None:
    # Claimed by someone else and escalated to P1 since: the notice still tells its moment.
    notice = CaseNotice("sla_nudged", {"priority": "P3", "owner": None})
    assert "P3 SLA. Nobody has claimed it yet." in notice_text(CASE, notice)


def test_an_actor_that_is_not_a_person_is_named_not_mentioned() -> None:
    notice = CaseNotice("escalated", {"from": "P3", "to": "P2", "by": "rule:<!channel>"})
    assert notice_text(CASE, notice) == "CASE-4 escalated P3 → P2 by `rule:&lt;!channel&gt;`"


def test_job_payloads_carry_the_code_and_fields_and_old_ones_their_text() -> None:
    assert notice_of(
        {"case_id": 4, "notice": "sla_breached", "fields": {"priority": "P1", "owner": None}}
    ) == CaseNotice("sla_breached", {"priority": "P1", "owner": None})
    assert notice_of({"case_id": 4, "text": "CASE-4 escalated"}) == CaseNotice(
        "text", {"text": "CASE-4 escalated"}
    )


def test_the_cases_workflow_writes_no_slack_markup() -> None:
    """Mentions, emoji and bold belong to commands/blocks: no string in workflows/cases has any."""
    markup = re.compile(r"<[@!#]|:[a-z0-9_+-]+:|(?:^|\s)\*[^*\s][^*]*\*")
    found = []
    for path in sorted((Path(workflows.cases.__file__).parent).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and markup.search(node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
    assert found == []

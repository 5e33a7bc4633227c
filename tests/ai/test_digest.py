"""The weekly digest's AI parts: how often analysts kept the triage suggestions, per
category, and a narrative whose every figure is one of the digest's own."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.fakes.openai import FakeOpenAI, SeenRequest
from commands.blocks.reports import digest_blocks
from store.ai import AiSuggestion
from tests.ai.conftest import GatewayFactory
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, ESCALATIONS
from workflows.ai import Assistant, Figure
from workflows.ai.narrative import check, offline
from workflows.cases import CaseOverrides, IncomingMessage
from workflows.periods import week_of

FIGURES = [
    Figure("Cases opened", 52, 40),
    Figure("SLA met (percent)", 87),
    Figure("Suspensions executed", 12, 12),
    Figure("Host report cases", 30, 18),
]


def test_a_sentence_stating_a_figure_not_given_is_dropped() -> None:
    kept, dropped = check(
        [
            "Cases opened rose from 40 to 52 this week.",
            "SLA attainment held at 87%.",
            "Host reports nearly doubled to 35.",  # 35 was never given
            "Suspensions stayed level at 12, about 3 a day.",  # 3 a day is arithmetic, not a figure
            "Week 2026-W48 was busier than the last.",
        ],
        FIGURES,
        extra=["2026-W48"],
    )
    assert kept == [
        "Cases opened rose from 40 to 52 this week.",
        "SLA attainment held at 87%.",
        "Week 2026-W48 was busier than the last.",
    ]
    assert dropped == ["Host reports nearly doubled to 35.", "Suspensions stayed level at 12, about 3 a day."]


def test_the_offline_narrative_names_the_largest_changes_with_given_figures_only() -> None:
    sentences = offline(FIGURES)
    assert sentences == ["Host report cases rose from 18 to 30.", "Cases opened rose from 40 to 52."]
    assert check(sentences, FIGURES) == (sentences, [])


def test_the_model_narrative_is_checked_back_and_falls_back_when_nothing_survives(
    make_gateway: GatewayFactory, fake_openai: FakeOpenAI, db, clock
) -> None:
    said: list[list[str]] = [
        ["Cases opened rose to 52.", "That is 25% more than usual.", "Host reports rose from 18 to 30."],
        ["Cases rose by 12.5 percent.", "Backlog hit 400."],
    ]

    def narrate(seen: SeenRequest) -> dict[str, list[str]]:
        assert "Cases opened: 52 (previous week 40)" in seen.text  # the figures are passed in
        return {"sentences": said.pop(0)}

    fake_openai.responder = narrate
    assistant = Assistant(db, clock, make_gateway())
    first = assistant.narrative("2026-W48", FIGURES)
    assert first.by.ai
    assert first.sentences == ["Cases opened rose to 52.", "Host reports rose from 18 to 30."]
    assert first.dropped == ["That is 25% more than usual."]

    second = assistant.narrative("2026-W48", FIGURES)
    assert not second.by.ai and second.sentences == offline(FIGURES)
    assert second.dropped == ["Cases rose by 12.5 percent.", "Backlog hit 400."]


def test_the_digest_shows_suggestion_accuracy_per_category_and_a_narrative(vigil: Vigil) -> None:
    cases = vigil.ctx.cases
    opened = []
    for i, text in enumerate(
        [
            "Host acct_1 asks guests to pay outside the platform",
            "Host acct_2 asks guests to pay outside the platform too",
            "Guest reports host acct_3 asking for cash outside the platform",
        ]
    ):
        overrides = CaseOverrides(category="cx_escalation", priority="P4") if i == 2 else None
        result = cases.open_case(
            IncomingMessage(channel=ESCALATIONS, ts=f"1764000100.00000{i}", user=ANALYST, text=text),
            source="shortcut",
            overrides=overrides,
        )
        assert result.case is not None
        opened.append(result.case.id)
    for case_id in opened:
        cases.claim(case_id, ANALYST)
        cases.resolve(case_id, ANALYST, "actioned")
    with vigil.db.read() as session:
        recorded = [session.get(AiSuggestion, case_id) for case_id in opened]
    # Recorded at resolution: the analyst kept two suggestions and changed the third.
    assert [(r.category_kept, r.priority_kept, r.final_category) for r in recorded if r] == [
        (True, True, "host_report"),
        (True, True, "host_report"),
        (False, False, "cx_escalation"),
    ]
    period = week_of(vigil.clock.now().date(), vigil.ctx.config.tz, vigil.clock.now() + timedelta(days=8))

    report = vigil.ctx.reports.digest(period)

    assert report.triage_accuracy is not None
    [line] = report.triage_accuracy
    # All three were suggested host_report; the analyst moved the third to CX escalation.
    assert (line.category, line.suggested, line.category_kept) == ("host_report", 3, 2)
    assert report.narrative is not None
    assert report.narrative.label == "written from the figures, no AI configured"
    assert report.narrative.sentences == [
        "Cases opened rose from 0 to 3.",
        "Host report cases rose from 0 to 2.",
        "CX escalation cases rose from 0 to 1.",
    ]
    _text, blocks = digest_blocks(report)
    shown = json.dumps(blocks)
    assert "*Triage suggestions kept by analysts*" in shown
    assert "Host report: category kept 2 of 3" in shown
    assert "*What changed*" in shown

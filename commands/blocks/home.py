"""The App Home view."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from commands.blocks.cases import queue_line
from commands.blocks.common import context, divider, header, section
from commands.blocks.decisions import qa_queue
from commands.blocks.investigations import home_line
from workflows.cases import CaseView, HomeData
from workflows.decisions.qa import QaItemView
from workflows.investigations import InvestigationView
from workflows.roles import Role

MAX_BLOCKS = 100


def _list(title: str, cases: list[CaseView], data: HomeData, empty: str) -> list[Block]:
    blocks: list[Block] = [header(title)]
    if not cases:
        return [*blocks, context(empty)]
    lines = [queue_line(c, data.now) for c in cases]
    return [*blocks, section("\n".join(lines))]


def home_view(
    roles: list[Role],
    data: HomeData | None,
    investigations: list[InvestigationView] | None = None,
    qa: list[QaItemView] | None = None,
) -> dict[str, Any]:
    you = ", ".join(r.name for r in roles) if roles else "no Vigil role yet"
    blocks: list[Block] = []
    if data is None:
        blocks += [
            header("Vigil"),
            section("Vigil tracks T&S escalations, enforcement and reviews. Ask a T&S admin for a role."),
        ]
    else:
        blocks += _list(
            "My cases", data.mine, data, "Nothing claimed. React :eyes: on an escalation to claim it."
        )
        blocks += [divider(), header("My open investigations")]
        blocks += (
            [section("\n".join(home_line(inv) for inv in investigations))]
            if investigations
            else [context("None open. `/vigil investigate ACCOUNT` opens one.")]
        )
        blocks += [divider()]
        blocks += _list("Close to breaching SLA", data.at_risk, data, "Nothing at risk.")
        blocks += [divider()]
        blocks += _list("Unclaimed queue", data.unclaimed, data, "The queue is empty.")
        if qa:
            blocks += [divider(), *qa_queue(qa)]
    blocks += [divider(), context(f"You are: {you}. `/vigil help` lists what you can do.")]
    return View(type="home", blocks=blocks[:MAX_BLOCKS]).to_dict()

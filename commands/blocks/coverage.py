"""Blocks for /vigil coverage: the figures per group and the weak points ranked."""

from __future__ import annotations

from typing import Any

from commands.blocks.common import as_dicts, context, escape, header, sections
from workflows.coverage import CoverageReport

GROUPS_MAX = 15  # lines in the per-group list; the rest is summed up


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} h"


def coverage_blocks(report: CoverageReport, tz_name: str) -> tuple[str, list[dict[str, Any]]]:
    total = report.totals
    title = f"Detection coverage · {report.since:%Y-%m-%d} → {report.until:%Y-%m-%d}"
    summary = (
        f"{total.confirmed} confirmed abuse: {total.automation_share:.0%} found by automation, "
        f"{total.people_share:.0%} by people; median delay {_hours(total.median_delay_hours)}, "
        f"p90 {_hours(total.p90_delay_hours)}; {total.no_rule_matched} matched no rule at all"
    )
    lines = [
        f"*{escape(g.key)}*: {g.confirmed} confirmed · automation {g.automation_share:.0%} · "
        f"people {g.people_share:.0%} · median {_hours(g.median_delay_hours)} · "
        f"p90 {_hours(g.p90_delay_hours)} · no rule {g.no_rule_matched}"
        for g in report.groups[:GROUPS_MAX]
    ]
    if len(report.groups) > GROUPS_MAX:
        lines.append(f"…and {len(report.groups) - GROUPS_MAX} more (`vigil coverage --format csv`)")
    weak = [f"{w.rank}. *{escape(w.key)}*: {escape(w.why)}" for w in report.weak_points[:10]]
    blocks: list[Any] = [
        header(title),
        context(
            f"by {report.by} · times in {escape(tz_name)} · late means after {report.late_after_hours:g} h"
        ),
        *sections([summary]),
    ]
    if lines:
        blocks += sections(lines)
    blocks += sections(
        ["*Weak points*", *(weak or ["none: everything confirmed was found by automation in time"])]
    )
    return f"{title}: {summary}", as_dicts(blocks)

"""Blocks for /vigil coverage: the figures per group and the weak points ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from commands.blocks.common import as_dicts, context, escape, header, sections
from workflows.coverage import CoverageReport
from workflows.coverage.compare import Comparison

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


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def comparison_blocks(result: Comparison) -> tuple[str, list[dict[str, Any]]]:
    current, other = result.current, result.other
    title = "Backtest comparison"
    rows = [
        f"`{escape(r['rule'])}` · {escape(Path(r['folder']).name)} · matched {r['matched']} · "
        f"TP {r['true_positives']} · FP {r['false_positives']} · precision {_pct(r['precision'])} · "
        f"recall {_pct(r['recall'])}"
        for r in result.table()
    ]
    wrong = [
        f"{escape(Path(w.folder).name)} · `{escape(w.rule_id)}` · {w.case_ref} "
        f"{escape(', '.join(w.accounts) or '(no account)')} ({w.why})"
        for w in result.wrongly_hit
    ]
    weak = [
        f"*{escape(w.category)}*: {w.caught}/{w.confirmed} → {w.caught_compare}/{w.confirmed} ({w.change:+d})"
        for w in result.weak_points
    ]
    blocks: list[Any] = [
        header(title),
        context(
            f"{escape(Path(current.folder).name)} (version {current.version}) against "
            f"{escape(Path(other.folder).name)} (version {other.version}) · "
            f"cases since {result.since:%Y-%m-%d}"
        ),
        *sections(["*Rules*", *(rows or ["no replayable rules"])]),
        *sections(["*Wrongly hit*", *(wrong[:20] or ["nobody"])]),
        *sections(["*Weak points caught*", *(weak or ["no weak points in this window"])]),
    ]
    summary = f"{title}: {len(result.wrongly_hit)} wrong hit(s); weak points " + (
        ", ".join(f"{w.category} {w.change:+d}" for w in result.weak_points) or "none"
    )
    return summary, as_dicts(blocks)

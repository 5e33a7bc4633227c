"""Blocks for /vigil coverage: the figures per group and the weak points ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from commands.blocks.common import SECTION_TEXT_MAX, as_dicts, context, escape, header, sections, truncate
from commands.blocks.handoff import engineering_button
from workflows.coverage import CoverageReport
from workflows.coverage.compare import Comparison
from workflows.coverage.recommend import Recommendation
from workflows.reports.views import CoverageWeek

GROUPS_MAX = 15  # lines in the per-group list; the rest is summed up


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} h"


def _advice(items: list[Recommendation]) -> list[str]:
    out = []
    for item in items:
        refs = ", ".join(f"<{e.url}|{escape(e.ref)}>" if e.url else escape(e.ref) for e in item.evidence)
        out.append(f"• {escape(item.text)}" + (f" (evidence: {refs})" if refs else ""))
    return out


def coverage_blocks(
    report: CoverageReport, tz_name: str, advice: list[Recommendation] | None = None
) -> tuple[str, list[dict[str, Any]]]:
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
    if advice:
        blocks += sections(["*Recommendations*", *_advice(advice)])
    if report.weak_points:
        top = report.weak_points[0]
        problem = f"{top.key}: {top.why}" + (f"\n{advice[0].text}" if advice else "")
        blocks.append(
            ActionsBlock(
                block_id="coverage", elements=[engineering_button("coverage", f"coverage:{top.key}", problem)]
            )
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


def digest_coverage_text(week: CoverageWeek | None) -> str:
    """The digest's coverage section: who found this week's confirmed abuse, against the 4
    weeks before, the top weak points and the recommendations with their evidence."""
    if week is None:
        return "*Detection coverage* · not tracked here."
    if not week.confirmed:
        return "*Detection coverage* · No abuse was confirmed this week."
    versus = (
        f" (4 weeks before: {week.previous_automation_share:.0%} of {week.previous_confirmed:,})"
        if week.previous_automation_share is not None
        else " (none confirmed in the 4 weeks before)"
    )
    lines = [
        f"*Detection coverage* · {week.confirmed:,} confirmed abuse: {week.automation_share:.0%} found by "
        f"automation{versus}, {week.people_share:.0%} by people; "
        f"median delay {_hours(week.median_delay_hours)}"
    ]
    if week.weak_points:
        lines.append(
            "_Weak points:_ " + "; ".join(f"{i}. {escape(w)}" for i, w in enumerate(week.weak_points, 1))
        )
    for text, evidence in week.recommendations:
        refs = ", ".join(f"<{url}|{escape(ref)}>" if url else escape(ref) for ref, url in evidence)
        lines.append(f"• {escape(text)}" + (f" (evidence: {refs})" if refs else ""))
    return truncate("\n".join(lines), SECTION_TEXT_MAX)

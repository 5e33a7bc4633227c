"""Blocks for the weekly digest, the investigation review, the shift summary and /vigil report,
and their plain-text rendering for the terminal (`vigil digest preview`).

Every message stays inside Slack's limits: at most MAX_BLOCKS blocks, 3000 characters per
section text, 10 fields per section (checked by slack_sdk's models and by the tests)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from commands.blocks.common import (
    as_dicts,
    bullets,
    context,
    divider,
    escape,
    header,
    mention,
    pct,
    section,
    truncate,
    user_text,
)
from commands.blocks.coverage import digest_coverage_text
from commands.blocks.handoff import digest_handoff_text
from commands.blocks.qa import qa_sections
from workflows.cases import CATEGORIES
from workflows.reports import (
    AbusePattern,
    AnomalyWeek,
    AppealWeek,
    Backlog,
    Change,
    DigestReport,
    EnforcementFigures,
    InvestigationWeek,
    Report,
    ReviewReport,
    ShiftReport,
    SlaLine,
    SummaryReport,
    TriageAccuracyLine,
    Volume,
)

MAX_BLOCKS = 50
MAX_FIELDS = 10
FIELD_TEXT_MAX = 2000
INVESTIGATION_OUTCOMES = {
    "abuse_confirmed": "abuse confirmed",
    "legitimate_outlier": "legitimate outlier",
    "inconclusive": "inconclusive",
}


# --- formatting --------------------------------------------------------------------------------------
def change(value: Change, versus: str = "last week") -> str:
    if value.previous == 0 and value.current == 0:
        return "0"
    arrow = "▲" if value.delta > 0 else "▼" if value.delta < 0 else "="
    ratio = f", {value.ratio:+.0%}" if value.ratio is not None else ""
    delta = f"{abs(value.delta):,}" if value.delta else "no change"
    return f"{value.current:,} ({arrow} {delta}{ratio} vs {versus})"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def _date(at: datetime) -> str:
    """A date each reader sees in their own timezone (the fallback is UTC)."""
    return f"<!date^{int(at.timestamp())}^{{date_short}}|{at:%Y-%m-%d}>"


def _versus(report_period_kind: str) -> str:
    return {"week": "last week", "month": "last month", "day": "the day before"}[report_period_kind]


# --- sections -------------------------------------------------------------------------------------------
def volume_text(volume: Volume, versus: str) -> str:
    categories = [f"{escape(line.label)}: {change(line.change, versus)}" for line in volume.by_category]
    sources = ", ".join(f"{escape(line.label)} {line.change.current:,}" for line in volume.by_source)
    text = f"*Volume* · {change(volume.total, versus)} cases"
    if categories:
        text += "\n" + bullets(categories, "categories")
        text += f"\n_By source:_ {sources}"
    else:
        text += "\nNo cases opened."
    return text


def sla_text(lines: list[SlaLine]) -> str:
    overall = lines[-1]
    head = (
        f"*SLA* · {overall.met:,} of {overall.due:,} met ({pct(overall.attainment)}) · "
        f"claim median {duration(overall.claim.p50)}, p90 {duration(overall.claim.p90)} · "
        f"resolve median {duration(overall.resolve.p50)}, p90 {duration(overall.resolve.p90)}"
    )
    rows = [
        f"{line.priority}: {line.met:,}/{line.due:,} met ({pct(line.attainment)}) · claim "
        f"{duration(line.claim.p50)} / {duration(line.claim.p90)} · resolve {duration(line.resolve.p50)} / "
        f"{duration(line.resolve.p90)}"
        for line in lines[:-1]
        if line.due or line.claim.count or line.resolve.count
    ]
    if not rows:
        return head + "\nNo SLA came due and nothing was claimed or resolved."
    return head + "\n" + bullets(rows) + "\n_median / p90; SLA met = resolved by its due time_"


def backlog_text(backlog: Backlog, at_label: str) -> str:
    if not backlog.open:
        return f"*Backlog* {at_label} · none open :tada:"
    ages = ", ".join(f"{label} {count:,}" for label, count in backlog.age_buckets.items() if count)
    oldest = f" · oldest opened {_date(backlog.oldest)}" if backlog.oldest else ""
    return (
        f"*Backlog* {at_label} · {backlog.open:,} open, {backlog.unclaimed:,} unclaimed, "
        f"{backlog.breached:,} past SLA\n• Age: {ages}{oldest}"
    )


def enforcement_fields(enforcement: EnforcementFigures) -> list[MarkdownTextObject]:
    week, rev = enforcement.week, enforcement.reversals
    requests = ", ".join(f"{n:,} {a}" for a, n in sorted(week.requests.items())) or "none"
    items = [
        f"*Suspensions*\n{week.suspensions:,}",
        f"*Reinstatements*\n{week.reinstatements:,}",
        f"*Bulk runs*\n{week.bulk_runs:,} ({week.bulk_accounts:,} accounts)",
        f"*Reversal rate (90 days)*\n{pct(rev.rate)} ({rev.reversed:,} of {rev.suspended:,} suspensions: "
        f"{rev.on_appeal:,} on appeal, {rev.reversed - rev.on_appeal:,} otherwise)",
        f"*Failed actions*\n{week.failed:,}",
        f"*Requests*\n{requests}; {week.rejected:,} rejected",
    ]
    if week.awaiting_manual:
        items.append(f"*Awaiting manual execution*\n{week.awaiting_manual:,}")
    return [MarkdownTextObject(text=truncate(item, FIELD_TEXT_MAX)) for item in items[:MAX_FIELDS]]


def appeals_text(week: AppealWeek | None) -> str:
    if week is None or not (week.received or week.decided or week.past_deadline):
        return "*Appeals* · No appeals this week."
    median = f"{week.median_hours:g} h" if week.median_hours is not None else "n/a"
    return (
        f"*Appeals* · {week.received:,} received, {week.decided:,} decided ({week.overturned:,} overturned), "
        f"median time to decide {median}, {week.past_deadline:,} past deadline"
    )


def investigations_text(week: InvestigationWeek | None, label: str = "this week") -> str:
    if week is None or not (week.opened or week.closed or week.open_now):
        return f"*Investigations* · No investigations recorded {label}."
    outcomes = ", ".join(
        f"{INVESTIGATION_OUTCOMES.get(name, escape(name))} {count:,}" for name, count in week.outcomes.items()
    )
    text = (
        f"*Investigations* · {week.opened:,} opened, {week.closed:,} closed"
        + (f" ({outcomes})" if outcomes else "")
        + f", {week.open_now:,} still open"
    )
    if week.oldest_open:
        rows = [
            f"{escape(inv.ref)} {user_text(inv.title, 120)} · "
            + (mention(inv.owner) if inv.owner else "no owner")
            + f" · open since {_date(inv.opened_at)}"
            for inv in week.oldest_open
        ]
        text += "\n_Oldest open:_\n" + bullets(rows, "open")
    return text


def anomalies_text(week: AnomalyWeek | None) -> str:
    if week is None or not (week.raised or week.resolved or week.open_now):
        return "*Anomalies* · No anomalies recorded this week."
    kinds = ", ".join(f"{escape(kind)} {count:,}" for kind, count in week.by_kind.items())
    text = f"*Anomalies* · {week.raised:,} raised, {week.resolved:,} resolved, {week.open_now:,} open"
    if kinds:
        text += f" ({kinds})"
    if week.notable:
        text += "\n" + bullets(
            [f"{escape(a.ref)} {user_text(a.title, 150)} · {escape(a.status)}" for a in week.notable]
        )
    return text


def patterns_text(patterns: list[AbusePattern] | None) -> str:
    if patterns is None:
        return "*Top abuse patterns* · AI summaries are not configured; patterns appear here once they are."
    if not patterns:
        return "*Top abuse patterns* · No patterns found this week."
    rows = [
        f"*{user_text(p.title, 100)}* ({p.cases:,} cases{', ' + escape(p.trend) if p.trend else ''}): "
        f"{user_text(p.summary, 300)}"
        for p in patterns
    ]
    return "*Top abuse patterns*\n" + bullets(rows)


def rules_text(report: DigestReport) -> str:
    rules = report.rules
    if not rules.top and not rules.shifts:
        return "*Rule hits* · No playbook rule matched this week."
    top = [
        f"`{escape(rule)}` {live + shadow:,}" + (f" ({shadow:,} in shadow)" if shadow else "")
        for rule, live, shadow in rules.top
    ]
    text = f"*Rule hits* · {rules.total:,} this week\n" + bullets(top)
    if rules.shifts:
        shifts = ", ".join(f"`{escape(s.rule_id)}` {s.previous:,} → {s.current:,}" for s in rules.shifts)
        text += f"\n_Shifted week over week:_ {shifts}"
    return text


# --- messages ---------------------------------------------------------------------------------------------
def _limit(blocks: list[Any]) -> list[dict[str, Any]]:
    if len(blocks) > MAX_BLOCKS:
        blocks = [
            *blocks[: MAX_BLOCKS - 1],
            context("Cut to fit Slack; `vigil digest preview` shows it all."),
        ]
    return as_dicts(blocks)


def narrative_blocks(report: DigestReport) -> list[Any]:
    if report.narrative is None or not report.narrative.sentences:
        return []
    return [
        section("*What changed* · " + escape(" ".join(report.narrative.sentences))),
        context(escape(report.narrative.label)),
    ]


def triage_accuracy_blocks(report: DigestReport) -> list[Any]:
    return [] if report.triage_accuracy is None else [section(triage_accuracy_text(report.triage_accuracy))]


def triage_accuracy_text(lines: list[TriageAccuracyLine]) -> str:
    if not lines:
        return "*Triage suggestions* · No case with a suggestion was resolved this week."
    rows = [
        f"{escape(line.label)}: category kept {line.category_kept} of {line.suggested} "
        f"({pct(line.category_kept / line.suggested)}), priority kept {line.priority_kept}"
        for line in lines
    ]
    return "*Triage suggestions kept by analysts* (cases resolved this week)\n" + bullets(rows)


def digest_blocks(report: DigestReport) -> tuple[str, list[dict[str, Any]]]:
    period = report.period
    text = (
        f"Weekly T&S digest {period.name}: {report.volume.total.current:,} cases, "
        f"SLA met {pct(report.sla_overall.attainment)}"
    )
    blocks: list[Any] = [
        header(f"Weekly T&S digest · {period.label}"),
        context(
            f"{period.first_day:%a %-d %b} 00:00 to {period.last_day:%a %-d %b} 24:00 {period.tz.key}"
            f" ({period.hours:g} h) · compared with {report.previous.name}"
            + (" · partial: the week is not over" if period.partial else "")
        ),
        *narrative_blocks(report),
        section(volume_text(report.volume, "last week")),
        section(sla_text(report.sla)),
        section(backlog_text(report.backlog, "at the end of the week" if not period.partial else "now")),
        divider(),
        section("*Enforcement*"),
        SectionBlock(fields=enforcement_fields(report.enforcement)),
        section(appeals_text(report.appeals)),
        *(section(text) for text in qa_sections(report.qa)),
        section(investigations_text(report.investigations)),
        section(rules_text(report)),
        section(anomalies_text(report.anomalies)),
        section(patterns_text(report.patterns)),
        *triage_accuracy_blocks(report),
        section(digest_coverage_text(report.coverage)),
        section(digest_handoff_text(report.handoffs)),
        context(":bar_chart: Charts in the thread: daily volume by category and SLA attainment, 8 weeks."),
    ]
    return text, _limit(blocks)


def review_blocks(report: ReviewReport) -> tuple[str, list[dict[str, Any]]]:
    text = f"Weekly investigation review {report.period.name}"
    blocks = [
        header(f"Investigation review · {report.period.label}"),
        section(investigations_text(report.investigations)),
        context("Owners: update or close what you no longer need open."),
    ]
    return text, _limit(blocks)


def shift_blocks(report: ShiftReport) -> tuple[str, list[dict[str, Any]]]:
    queue = report.queue
    text = f"Shift summary {report.period.name}: {queue.unclaimed:,} unclaimed, {queue.at_risk:,} at risk"
    by_priority = ", ".join(f"{p} {n:,}" for p, n in sorted(queue.by_priority.items())) or "empty"
    sla = report.yesterday_sla
    blocks = [
        header(f"Shift summary · {report.period.first_day:%a %-d %b %Y}"),
        section(
            f"*Queue now* · {sum(queue.by_priority.values()):,} open ({by_priority})\n"
            f"• Unclaimed: {queue.unclaimed:,}\n• SLA at risk (75% elapsed): {queue.at_risk:,}\n"
            f"• Past SLA: {queue.breached:,}"
        ),
        section(
            volume_text(report.yesterday_volume, "the day before").replace("*Volume*", "*Yesterday*", 1)
            + f"\n_SLA due yesterday:_ {sla.met:,} of {sla.due:,} met ({pct(sla.attainment)})"
        ),
        context("`/vigil queue` lists the open cases, most urgent first."),
    ]
    return text, _limit(blocks)


def summary_blocks(report: SummaryReport) -> tuple[str, list[dict[str, Any]]]:
    period = report.period
    what = CATEGORIES.get(report.category, report.category) if report.category else "All categories"
    versus = _versus(period.kind)
    blocks: list[Any] = [
        header(f"Report · {period.label}"),
        context(f"{escape(what)} · compared with the same stretch of {report.previous.name}"),
        section(volume_text(report.volume, versus)),
        section(sla_text(report.sla)),
        section(backlog_text(report.backlog, "now" if period.partial else "at the end")),
    ]
    if report.enforcement is not None:
        blocks += [section("*Enforcement*"), SectionBlock(fields=enforcement_fields(report.enforcement))]
    return f"Report {period.name}: {report.volume.total.current:,} cases", _limit(blocks)


def report_blocks(report: Report) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(report, DigestReport):
        return digest_blocks(report)
    if isinstance(report, ReviewReport):
        return review_blocks(report)
    return shift_blocks(report)


# --- the terminal ----------------------------------------------------------------------------------------
def _plain(mrkdwn: str) -> str:
    import re

    text = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", mrkdwn)
    text = re.sub(r"<@([A-Z0-9]+)>", r"@\1", text)
    text = text.replace("*", "").replace("`", "")
    text = re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)
    return html.unescape(text)


def as_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks as a terminal reads them: headers underlined, mrkdwn marks removed."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * len(title)]
        elif kind == "divider":
            out.append("-" * 60)
        elif kind == "context":
            out.append("  " + " ".join(_plain(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "section":
            if block.get("text"):
                out.append(_plain(block["text"]["text"]))
            for item in block.get("fields") or []:
                out.append("  " + _plain(item["text"]).replace("\n", ": ", 1))
        out.append("")
    return "\n".join(out).rstrip() + "\n"

"""`vigil coverage`: how confirmed abuse was first found, how late, and the weak points."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime

import click

from bot.cli.context import cli_context, fail
from workflows.config import VigilConfig
from workflows.coverage import BY_CHOICES, Coverage, CoverageReport
from workflows.coverage.compare import COMPARE_COLUMNS, Comparison
from workflows.coverage.recommend import Recommendation
from workflows.periods import local_midnight
from workflows.playbooks import RuleSet, parse_since


def window(config: VigilConfig, now: datetime, since: str, until: str | None) -> tuple[datetime, datetime]:
    """``--since`` (inclusive) and ``--until`` (exclusive); plain dates are local midnights."""

    def instant(option: str, text: str) -> datetime:
        try:
            value = parse_since(text, now)
        except ValueError:
            fail(f"vigil: {option} {text!r}: use an ISO date (2026-11-01) or 30d, 12h, 2w", 2)
        if len(text.strip()) == 10:
            value = local_midnight(value.date(), config.tz)
        return value

    start = instant("--since", since)
    end = instant("--until", until) if until else now
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    return start, end


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:g} h"


def table(report: CoverageReport, config: VigilConfig, advice: list[Recommendation] | None = None) -> str:
    tz = config.tz
    lines = [
        f"Coverage of confirmed abuse {report.since.astimezone(tz):%Y-%m-%d %H:%M} → "
        f"{report.until.astimezone(tz):%Y-%m-%d %H:%M} ({config.timezone}), by {report.by}",
        "",
    ]
    header = (report.by, "confirmed", "automation", "people", "median", "p90", "no rule", "weak")
    rows = [header] + [
        (
            g.key,
            str(g.confirmed),
            f"{g.automation_share:.0%}",
            f"{g.people_share:.0%}",
            _hours(g.median_delay_hours),
            _hours(g.p90_delay_hours),
            str(g.no_rule_matched),
            str(g.weak),
        )
        for g in [*report.groups, report.totals]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    lines.append("")
    if report.weak_points:
        lines.append(f"Weak points (found only by people or after {report.late_after_hours:g} h, by volume):")
        lines += [f"{w.rank}. {w.key}: {w.why}" for w in report.weak_points]
    else:
        lines.append("No weak points: everything confirmed was found by automation in time.")
    if advice:
        lines += ["", "Recommendations:"]
        for item in advice:
            refs = ", ".join(e.ref + (f" <{e.url}>" if e.url else "") for e in item.evidence)
            lines.append(f"- {item.text}" + (f" (evidence: {refs})" if refs else ""))
    return "\n".join(lines)


@click.command("coverage")
@click.option(
    "--since", default="30d", show_default=True, help="from: an ISO date (2026-11-01) or 30d, 12h, 2w"
)
@click.option("--until", default=None, help="to (exclusive): an ISO date; default now")
@click.option("--by", "by", type=click.Choice(BY_CHOICES), default="category", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option(
    "--explain", "account", default=None, help="print how ACCOUNT's confirmed abuse was first found"
)
def coverage(since: str, until: str | None, by: str, fmt: str, account: str | None) -> None:
    """Detection coverage: how confirmed abuse was first found, how late, and the weak points."""
    cli = cli_context()
    config = cli.config
    start, end = window(config, cli.clock.now(), since, until)
    service = Coverage(cli.db, config, cli.clock)
    report = service.report(start, end, by)  # type: ignore[arg-type]
    if account is not None:
        lines = service.explain(account)
        if not lines:
            fail(f"vigil: no confirmed abuse of {account!r} is on record", 1)
        click.echo("\n".join(lines))
        return
    if fmt == "json":
        click.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    elif fmt == "csv":
        csv.writer(sys.stdout).writerows(report.csv_rows())
    else:
        click.echo(table(report, config, service.recommendations(report)))


def comparison_lines(result: Comparison) -> list[str]:
    """The side-by-side table, the people each folder would have hit wrongly, and the change
    in coverage of the weak points."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    header = ["rule", "folder", "matched", "true_positives", "false_positives", "precision", "recall"]
    rows = [
        [
            r["rule"],
            r["folder"],
            str(r["matched"]),
            str(r["true_positives"]),
            str(r["false_positives"]),
            pct(r["precision"]),
            pct(r["recall"]),
        ]
        for r in result.table()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        f"backtest of {result.current.folder} (version {result.current.version}) against "
        f"{result.other.folder} (version {result.other.version}) over cases since "
        f"{result.since:%Y-%m-%d %H:%M} UTC",
    ]
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.append("")
    for run in (result.current, result.other):
        wrong = [w for w in result.wrongly_hit if w.folder == run.folder]
        lines.append(f"wrongly hit by {run.folder}: {len(wrong)}")
        lines += [
            f"  {w.rule_id}: {w.case_ref} {', '.join(w.accounts) or '(no account)'} ({w.why})" for w in wrong
        ]
    lines.append("")
    if result.weak_points:
        lines.append(f"weak points caught (of confirmed): {result.current.folder} → {result.other.folder}")
        lines += [
            f"  {w.category}: {w.caught}/{w.confirmed} → {w.caught_compare}/{w.confirmed} ({w.change:+d})"
            for w in result.weak_points
        ]
    else:
        lines.append("no weak points in this window")
    return lines


def compare_folders(
    current: RuleSet, other: RuleSet, since: str, rule_id: str | None, csv_path: str | None
) -> None:
    """`vigil rules backtest --compare OTHER`: both folders over the same history."""
    if rule_id is not None:
        fail("rules: --rule and --compare do not go together (a comparison replays every rule)", 2)
    cli = cli_context()
    now = cli.clock.now()
    try:
        start = parse_since(since, now)
    except ValueError as exc:
        fail(str(exc), 2)
    result = Coverage(cli.db, cli.config, cli.clock).compare(current, other, start, now)
    click.echo("\n".join(comparison_lines(result)))
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COMPARE_COLUMNS))
            writer.writeheader()
            writer.writerows(result.table())
        click.echo(f"wrote {csv_path}")

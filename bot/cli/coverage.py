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
from workflows.periods import local_midnight
from workflows.playbooks import parse_since


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


def table(report: CoverageReport, config: VigilConfig) -> str:
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
        click.echo(table(report, config))

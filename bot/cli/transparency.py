"""`vigil transparency`: DSA transparency figures (docs/dsa.md, "Transparency report")."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click

from bot.cli.context import cli_context, fail
from store.decisions import statements_between
from workflows.decisions.transparency import transparency_report
from workflows.periods import local_midnight


@click.group()
def transparency() -> None:
    """DSA transparency figures: restrictions, appeals, statements."""


@transparency.command("statements")
@click.option("--since", required=True, help="first day, inclusive (2026-07-01), in the config's timezone")
@click.option("--until", required=True, help="last day, exclusive (2027-01-01), in the config's timezone")
def transparency_statements(since: str, until: str) -> None:
    """Export approved statements of reasons as JSON lines (the database's fields, status, id)."""
    cli = cli_context()
    start, end = _period(cli.config.tz, since, until)
    with cli.db.read() as session:
        for row in statements_between(session, start, end):
            line = {"status": row.status, "dsa_id": row.dsa_id, "error": row.error, "statement": row.body}
            click.echo(json.dumps(line, sort_keys=True))


def _period(tz: ZoneInfo, since: str, until: str) -> tuple[datetime, datetime]:
    days = []
    for option, text in (("--since", since), ("--until", until)):
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            fail(f"vigil: {option} {text!r}: use an ISO date like 2026-07-01", 2)
    start, end = (local_midnight(day, tz) for day in days)
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    return start, end


@transparency.command("report")
@click.option("--since", required=True, help="first day, inclusive (2026-07-01), in the config's timezone")
@click.option("--until", required=True, help="last day, exclusive (2027-01-01), in the config's timezone")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def transparency_report_command(since: str, until: str, fmt: str) -> None:
    """Print the period's transparency figures, counted by the database."""
    cli = cli_context()
    config = cli.config
    start, end = _period(config.tz, since, until)
    with cli.db.read() as session:
        report = transparency_report(session, start, end, config.timezone)
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    click.echo(f"# transparency report {since} (inclusive) to {until} (exclusive), {config.timezone}")
    writer = csv.writer(sys.stdout)
    writer.writerow(["figure", "breakdown", "value"])
    for figure in report.figures:
        writer.writerow([figure.figure, figure.breakdown, figure.value])

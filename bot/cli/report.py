"""`vigil report`: figures for spreadsheets."""

from __future__ import annotations

import contextlib
import csv
import sys
from datetime import datetime

import click

from bot.cli.context import cli_context, fail
from workflows.periods import local_midnight
from workflows.playbooks import parse_since
from workflows.reports import export_rows


@click.group()
def report() -> None:
    """Reports for spreadsheets."""


@report.command("export")
@click.option("--since", required=True, help="from: an ISO date (2026-11-01) or 30d, 12h, 2w")
@click.option("--until", default=None, help="to (exclusive): an ISO date; default now")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option(
    "--table",
    type=click.Choice(["cases", "actions", "sla"]),
    default="cases",
    show_default=True,
    help="cases (one row per case), actions (one per enforcement action), sla (per week and priority)",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="a file (default: stdout)")
def report_export(since: str, until: str | None, fmt: str, table: str, out: str | None) -> None:
    """Export cases, enforcement actions or weekly SLA figures as CSV."""
    cli = cli_context()
    config = cli.config
    now = cli.clock.now()

    def instant(option: str, text: str) -> datetime:
        try:
            value = parse_since(text, now)
        except ValueError:
            fail(f"vigil: {option} {text!r}: use an ISO date (2026-11-01) or 30d, 12h, 2w", 2)
        if len(text.strip()) == 10 and value.tzinfo is now.tzinfo:  # a plain date: its local midnight
            value = local_midnight(value.date(), config.tz)
        return value

    start = instant("--since", since)
    end = instant("--until", until) if until else now
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    rows = 0
    target = open(out, "w", newline="", encoding="utf-8") if out else contextlib.nullcontext(sys.stdout)  # noqa: SIM115
    with target as handle:
        writer = csv.writer(handle)
        with cli.db.read() as session:
            for row in export_rows(session, table, start, end, config.tz):
                writer.writerow(row)
                rows += 1
    if out:
        click.echo(f"wrote {rows - 1:,} {table} row(s) to {out}")

"""`vigil qa`: the daily QA sample on demand, and agreement figures."""

from __future__ import annotations

from datetime import date, timedelta

import click

from bot.cli.context import cli_context, fail
from workflows.decisions.qa import Qa
from workflows.periods import local_midnight


@click.group()
def qa() -> None:
    """QA re-reviews of decisions: sampling and agreement."""


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"vigil: {option} {text!r}: use an ISO date like 2026-12-01", 2)


@qa.command("sample")
@click.option("--day", "day_text", default=None, help="the day whose decisions to sample (default yesterday)")
def qa_sample(day_text: str | None) -> None:
    """Sample a day's decisions for re-review (the same draw if it already ran)."""
    cli = cli_context()
    service = Qa(cli.db, cli.clock, cli.config)
    day = (
        _day("--day", day_text)
        if day_text
        else cli.clock.now().astimezone(cli.config.tz).date() - timedelta(days=1)
    )
    run = service.sample_day(day)
    click.echo(
        f"{run.day}: {run.candidates} decision(s), {run.sampled} sampled, {run.unassigned} without a reviewer"
    )
    click.echo("the running Vigil sends the re-reviews by DM")


@qa.command("agreement")
@click.option("--since", required=True, help="first day, inclusive, in the config's timezone")
@click.option("--until", required=True, help="last day, exclusive, in the config's timezone")
@click.option(
    "--by",
    type=click.Choice(["category", "reviewer", "decider"]),
    default="category",
    show_default=True,
    help="category; reviewer (who re-reviewed); decider (whose decisions were re-reviewed)",
)
def qa_agreement(since: str, until: str, by: str) -> None:
    """Print re-reviews answered and agreed on the outcome, per category, per reviewer or per
    decider (the analyst whose decisions were re-reviewed).

    An operator tool, trusted like `vigil enforcement request`: whoever can run it with Vigil's
    database sees the per-person figures that Slack shows only to admins."""
    cli = cli_context()
    start, end = (
        local_midnight(_day(o, t), cli.config.tz) for o, t in (("--since", since), ("--until", until))
    )
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    click.echo(f"# QA agreement {since} (inclusive) to {until} (exclusive), {cli.config.timezone}")
    click.echo(f"{by},answered,agreed,agreement")
    for key, answered, agreed in Qa(cli.db, cli.clock, cli.config).agreement(start, end, by):
        click.echo(f"{key},{answered},{agreed},{agreed / answered:.2f}")

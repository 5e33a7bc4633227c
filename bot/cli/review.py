"""`vigil review publish`: the weekly review as a Confluence page."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from workflows.periods import PeriodError, last_full_week, parse_period


@click.group()
def review() -> None:
    """The weekly review published to Confluence."""


@review.command("publish")
@click.option("--week", default=None, help="an ISO week like 2026-W46 (default: the last full week)")
def review_publish(week: str | None) -> None:
    """Write the week's investigation review and abuse trends as a Confluence page (updated in place)."""
    cli = cli_context()
    config, now = cli.config, cli.clock.now()
    try:
        period = parse_period(week, now, config.tz) if week else last_full_week(now, config.tz)
    except PeriodError as exc:
        fail(f"vigil: --week: {exc}", 2)
    if period.kind != "week":
        fail("vigil: --week takes an ISO week like 2026-W46", 2)
    if not cli.settings.vigil_confluence_url or cli.settings.vigil_jira_token is None:
        fail("vigil: set VIGIL_CONFLUENCE_URL and VIGIL_JIRA_TOKEN (and VIGIL_JIRA_EMAIL for Jira Cloud)", 2)
    ctx, _client = cli.app()
    assert ctx.review_pages is not None
    page = ctx.review_pages.publish(period)
    click.echo(f"{period.name}: {page.url} (version {page.version})")

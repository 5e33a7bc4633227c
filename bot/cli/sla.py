"""`vigil sla`: case SLAs."""

from __future__ import annotations

import click

from bot.cli.context import cli_context


@click.group()
def sla() -> None:
    """Case SLAs."""


@sla.command("check")
def sla_check() -> None:
    """Post due SLA nudges and breach notices now (the scheduler runs the same check every minute).

    Without SLACK_BOT_TOKEN the check still runs and its posts wait for the running Vigil."""
    cli = cli_context()
    ctx, _client = cli.app()
    report = ctx.cases.check_sla()
    click.echo(f"nudged: {', '.join(report.nudged) or 'none'}")
    click.echo(f"breached: {', '.join(report.breached) or 'none'}")
    if cli.settings.slack_bot_token is None:
        # The marks and their post jobs are stored: the running Vigil posts them, once.
        click.echo(
            "SLACK_BOT_TOKEN is not set: nothing was posted from here; "
            "the running Vigil posts these nudges and notices"
        )
        return
    click.echo(f"Slack posts sent: {ctx.jobs.run_until_idle()}")

"""`vigil doctor`: is this deployment ready? One line per check (bot/doctor.py)."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from bot.doctor import run_checks


@click.command()
def doctor() -> None:
    """Check config, database, Slack token, scopes, channels and the enforcement API."""
    failed = False
    for check in run_checks(cli_context().settings):
        click.echo(check.line())
        failed = failed or check.level == "FAIL"
    if failed:
        fail("doctor: some checks failed; fix the lines marked FAIL")

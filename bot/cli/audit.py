"""`vigil audit`: the hash-chained audit log."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from workflows.audit import verify


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 on any changed or deleted row."""
    with cli_context().db.read() as session:
        result = verify(session)
    if result.ok:
        click.echo(f"audit log OK: {result.entries} entries, head {result.head}")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    fail(f"audit log BROKEN: {len(result.problems)} problem(s) in {result.entries} entries")

"""`vigil db`: the database schema (Alembic). Needs only VIGIL_DATABASE_URL, never the config."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from store import migrate


@click.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    try:
        migrate.upgrade(cli_context().settings.vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION (`base` empties it)."""
    try:
        migrate.downgrade(cli_context().settings.vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the one this Vigil needs."""
    status = cli_context().db.schema_status()
    click.echo(f"current: {status.current or '(empty)'}\nhead:    {status.head}")
    if not status.up_to_date:
        fail("schema is behind: run `vigil db upgrade`")

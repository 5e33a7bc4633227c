"""The `vigil` command line: serve, migrate, verify, diagnose — and every workflow an
operator may need without Slack."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from workflows.config import ConfigError, Settings, VigilConfig, load_config


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def settings_and_config() -> tuple[Settings, VigilConfig]:
    settings = Settings()
    try:
        return settings, load_config(settings.vigil_config)
    except ConfigError as exc:
        fail(str(exc), 2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Vigil: Trust & Safety operations in Slack."""
    from bot.logging import configure_logging

    settings = Settings()
    configure_logging(settings.vigil_log_format, settings.vigil_log_level)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="interface to listen on")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--socket-mode", is_flag=True, help="connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP"
)
def serve(host: str, port: int, socket_mode: bool) -> None:
    """Run Vigil: Slack events, commands and interactivity, the worker and the scheduler."""
    from bot.runtime import build_context
    from bot.serve import StartupError
    from bot.serve import serve as run

    settings, config = settings_and_config()
    missing = settings.missing_for_serve(socket_mode)
    ctx, client = build_context(settings, config)
    try:
        run(ctx, client, host, port, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}", 2 if missing else 1)


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    from store import migrate

    settings = Settings()
    try:
        migrate.upgrade(settings.vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION (`base` empties it)."""
    from store import migrate

    try:
        migrate.downgrade(Settings().vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the one this Vigil needs."""
    from store.db import Database

    status = Database(Settings().vigil_database_url).schema_status()
    click.echo(f"current: {status.current or '(empty)'}\nhead:    {status.head}")
    if not status.up_to_date:
        fail("schema is behind: run `vigil db upgrade`")


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 on any changed or deleted row."""
    from store.db import Database
    from workflows.audit import verify

    database = Database(Settings().vigil_database_url)
    with database.read() as session:
        result = verify(session)
    if result.ok:
        click.echo(f"audit log OK: {result.entries} entries, head {result.head}")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    fail(f"audit log BROKEN: {len(result.problems)} problem(s) in {result.entries} entries")


@main.group()
def sla() -> None:
    """Case SLAs."""


@sla.command("check")
def sla_check() -> None:
    """Post due SLA nudges and breach notices now (the scheduler runs the same check every minute)."""
    from bot.runtime import build_context

    settings, config = settings_and_config()
    if settings.slack_bot_token is None:
        fail("vigil: SLACK_BOT_TOKEN is not set; the nudges are posted to Slack", 2)
    ctx, _client = build_context(settings, config)
    report = ctx.escalations.check_sla()
    posted = ctx.jobs.run_until_idle()
    click.echo(f"nudged: {', '.join(report.nudged) or 'none'}")
    click.echo(f"breached: {', '.join(report.breached) or 'none'}")
    click.echo(f"Slack posts sent: {posted}")


@main.command()
def doctor() -> None:
    """Check config, database, Slack token, scopes, channels and the enforcement API."""
    from bot.doctor import run_checks

    failed = False
    for check in run_checks(Settings()):
        click.echo(check.line())
        failed = failed or check.level == "FAIL"
    if failed:
        fail("doctor: some checks failed; fix the lines marked FAIL")


if __name__ == "__main__":
    main()

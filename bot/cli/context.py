"""What every `vigil` command shares: settings, config and the database, each built once per
invocation and only when a command first asks for it, and the one-line way to stop.

`db`, `audit` and `enforcement list` never read the config, so a broken `vigil.yaml` does not
stop them; a command that does read it stops with the validation error on one line (exit 2).
The two builders that wire many concepts (`app()` for commands that post to Slack,
`signal_services()` for those that only read and write the store) import their wiring when
called: a command that needs neither starts without Slack, the rule engine or matplotlib.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

import click

from store.db import Database
from workflows.clock import SystemClock
from workflows.config import ConfigError, Settings, VigilConfig, load_config, secret
from workflows.roles import RoleBook

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from commands.context import AppContext
    from workflows.anomalies import Anomalies
    from workflows.investigations import Investigations
    from workflows.signals import Signals


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command: ``message`` on stderr, exit ``code`` (2 for bad input or config)."""
    click.echo(message, err=True)
    sys.exit(code)


def parse_at(value: str | None) -> datetime | None:
    """An `--at` option: ISO 8601, UTC when no offset is given."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"vigil: --at {value!r} is not an ISO 8601 time (e.g. 2026-11-23T10:00Z)", 2)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class CliContext:
    """One invocation's shared parts; see `cli_context()`."""

    def __init__(self) -> None:
        self.clock = SystemClock()

    @cached_property
    def settings(self) -> Settings:
        return Settings()

    @cached_property
    def config(self) -> VigilConfig:
        try:
            return load_config(self.settings.vigil_config)
        except ConfigError as exc:
            fail(str(exc), 2)

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.vigil_database_url)

    def app(self, *, announce_reload_errors: bool = False) -> tuple[AppContext, WebClient]:
        """The whole running Vigil (Slack client, every concept, the job runner) on this
        invocation's database, for commands whose work ends in a Slack post."""
        from bot.runtime import build_context

        return build_context(
            self.settings,
            self.config,
            db=self.db,
            clock=self.clock,
            announce_reload_errors=announce_reload_errors,
        )

    def roles(self) -> RoleBook:
        """Who holds which role; Slack user groups are resolved only with SLACK_BOT_TOKEN set."""
        from bot.slack_client import SlackGroupDirectory, make_client

        token = secret(self.settings.slack_bot_token)
        directory = SlackGroupDirectory(make_client(token, self.settings.slack_api_url)) if token else None
        return RoleBook(self.config.roles, directory)

    def signal_services(self) -> tuple[Signals, Anomalies, Investigations]:
        """Signals, anomalies and investigations without Slack. Investigations read the
        enforcement ledger, open requests too, so nobody asks twice."""
        from bot.services import signal_services
        from workflows.investigations import LedgerEnforcementHistory

        history = LedgerEnforcementHistory(self.db)
        return signal_services(self.settings, self.config, self.db, self.clock, history=history)

    def investigations(self) -> Investigations:
        """Investigations (and the signals they read) without anomalies or Slack; they read
        the enforcement ledger as `signal_services()` does."""
        from bot.services import investigation_services
        from workflows.investigations import LedgerEnforcementHistory

        history = LedgerEnforcementHistory(self.db)
        return investigation_services(self.settings, self.config, self.db, self.clock, history=history)[1]

    def close(self) -> None:
        if "db" in self.__dict__:  # built: give its connections back before the process ends
            self.db.dispose()


def open_cli_context() -> CliContext:
    """Called by the `vigil` group before any command: the invocation's context, closed when
    the invocation ends (also on `fail()`)."""
    ctx = click.get_current_context()
    cli = ctx.ensure_object(CliContext)
    ctx.call_on_close(cli.close)
    return cli


def cli_context() -> CliContext:
    """The running command's shared settings, config and database."""
    return click.get_current_context().ensure_object(CliContext)

"""`vigil serve`: the running Vigil."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from bot.serve import StartupError, check_environment
from bot.serve import serve as run


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="interface to listen on")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--socket-mode", is_flag=True, help="connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP"
)
def serve(host: str, port: int, socket_mode: bool) -> None:
    """Run Vigil: Slack events, commands and interactivity, the worker and the scheduler."""
    cli = cli_context()
    settings, _config = cli.settings, cli.config  # a bad config stops serve first, then the environment
    try:
        check_environment(settings, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}", 2)
    ctx, client = cli.app(announce_reload_errors=True)
    try:
        run(ctx, client, host, port, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}")

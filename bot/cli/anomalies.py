"""`vigil anomalies`: the hourly detection, on demand. Without a Slack token it runs on the
store alone and leaves the alerts queued for the running Vigil."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, parse_at


@click.group()
def anomalies() -> None:
    """Anomaly detection over signal volumes."""


@anomalies.command("detect")
@click.option("--at", "at", help="judge the hour before this time (ISO 8601, default now)")
def anomalies_detect(at: str | None) -> None:
    """Run the hourly detection now and print what it found (new anomalies are posted)."""
    cli = cli_context()
    settings, _config = cli.settings, cli.config  # a bad config is told before a bad --at
    when = parse_at(at)
    if settings.slack_bot_token is not None:
        ctx, _client = cli.app()
        report = ctx.anomalies.detect(when)
        posted = ctx.jobs.run_until_idle()
    else:
        _signals, detector, _investigations = cli.signal_services()
        report = detector.detect(when)
        posted = None
    click.echo(f"hour judged: {report.hour:%Y-%m-%d %H:00} UTC ({report.series} series)")
    for anomaly in report.found:
        click.echo(f"new: {anomaly.summary()}")
    for anomaly in report.suppressed:
        click.echo(f"snoozed (not posted): {anomaly.summary()}")
    if report.known:
        click.echo(f"already known: {report.known}")
    if not (report.found or report.suppressed or report.known):
        click.echo("no anomalies")
    if posted is None:
        click.echo("SLACK_BOT_TOKEN is not set: alerts are queued for the running Vigil to post")
    else:
        click.echo(f"Slack posts sent: {posted}")

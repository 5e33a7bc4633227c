"""`vigil anomalies`: the hourly detection, on demand. Without a Slack token it runs on the
store alone and leaves the alerts queued for the running Vigil."""

from __future__ import annotations

import getpass

import click

from bot.cli.context import cli_context, fail, parse_at
from workflows.anomalies import DELIVERY


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
    if report.muted:
        click.echo(f"below a dismissed shape's raised threshold: {report.muted}")
    for incident in report.opened:
        click.echo(f"incident #{incident.id} opened ({DELIVERY.get(incident.delivery, incident.delivery)})")
    for incident in report.extended:
        click.echo(f"incident #{incident.id} goes on: {incident.hours} anomalous hour(s)")
    for incident in report.closed:
        click.echo(f"incident #{incident.id} closed: {incident.state_line()}")
    if not (report.found or report.suppressed or report.known or report.muted or report.closed):
        click.echo("no anomalies")
    if posted is None:
        click.echo("SLACK_BOT_TOKEN is not set: alerts are queued for the running Vigil to post")
    else:
        click.echo(f"Slack posts sent: {posted}")


@anomalies.group("shapes")
def anomalies_shapes() -> None:
    """Recurring shapes the team called "not an issue" (each lowers one series' sensitivity)."""


@anomalies_shapes.command("list")
@click.option("--all", "show_all", is_flag=True, help="also the forgotten ones")
def anomalies_shapes_list(show_all: bool) -> None:
    """The remembered shapes: id, series, kind, weekday-hours, raised threshold, who and when."""
    cli = cli_context()
    _signals, detector, _investigations = cli.signal_services()
    shapes = [s for s in detector.shapes() if show_all or s.active]
    if not shapes:
        click.echo("no remembered shapes")
        return
    click.echo("id\tseries\tkind\twhen\tmin_score\tincident\tby\tat\tstate")
    for shape in shapes:
        state = (
            "active"
            if shape.active
            else f"forgotten by {shape.forgotten_by} {shape.forgotten_at:%Y-%m-%d %H:%M}"
        )
        click.echo(
            f"{shape.id}\t{shape.series}\t{shape.kind}\t{shape.when()}\t{shape.min_score:g}\t"
            f"#{shape.incident_id}\t{shape.created_by}\t{shape.created_at:%Y-%m-%d %H:%M}\t{state}"
        )


@anomalies_shapes.command("forget")
@click.argument("shape_id")
@click.option("--by", "actor", default=None, help="who restores it (for the audit log); default cli:$USER")
def anomalies_shapes_forget(shape_id: str, actor: str | None) -> None:
    """Forget shape ID: its series alerts again with the usual sensitivity in those hours."""
    if not shape_id.isdigit() or len(shape_id) > 11:
        fail(f"vigil: shape id {shape_id!r} is not a number (see `vigil anomalies shapes list`)", 2)
    cli = cli_context()
    settings, _config = cli.settings, cli.config
    if settings.slack_bot_token is not None:
        ctx, _client = cli.app()
        detector = ctx.anomalies
    else:
        _signals, detector, _investigations = cli.signal_services()
    result = detector.forget_shape(int(shape_id), actor or f"cli:{getpass.getuser()}")
    if result.outcome == "not_found" or result.shape is None:
        fail(f"vigil: no shape {shape_id} (see `vigil anomalies shapes list`)")
    if result.outcome == "already":
        fail(f"vigil: shape {shape_id} was already forgotten by {result.shape.forgotten_by}")
    if settings.slack_bot_token is not None:
        ctx.jobs.run_until_idle()
    click.echo(f"forgot shape {shape_id}: {result.shape.series} alerts as usual in {result.shape.when()}")

"""`vigil anomalies`: the hourly detection, on demand. Without a Slack token it runs on the
store alone and leaves the alerts queued for the running Vigil."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime
from pathlib import Path

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


@anomalies.command("backtest")
@click.option("--since", required=True, help="first day judged (inclusive), e.g. 2026-07-01")
@click.option("--until", required=True, help="day the replay stops (exclusive), e.g. 2026-12-01")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="judge with this config instead"
)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
def anomalies_backtest(since: str, until: str, config_path: str | None, fmt: str) -> None:
    """Replay detection hour by hour over the stored history and print the incidents it would
    have raised. Posts nothing and stores nothing."""
    from workflows.anomalies.backtest import as_json, backtest
    from workflows.config import ConfigError, load_config
    from workflows.periods import local_midnight

    cli = cli_context()
    if config_path is None:
        config = cli.config
    else:
        try:
            config = load_config(Path(config_path))
        except ConfigError as exc:
            fail(f"vigil: --config {config_path}: {exc}", 2)

    def day(option: str, text: str) -> datetime:
        try:
            return local_midnight(date.fromisoformat(text), config.tz)
        except ValueError:
            fail(f"vigil: {option} {text!r} is not a date (use YYYY-MM-DD, e.g. 2026-07-01)", 2)

    start, end = day("--since", since), day("--until", until)
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    result = backtest(cli.db, config, start, end)
    if fmt == "jsonl":
        for incident in result.incidents:
            click.echo(json.dumps(as_json(incident)))
    else:
        click.echo(
            f"backtest {since} to {until} (until exclusive, {config.timezone}): "
            f"{result.hours} hours judged, {result.series} series"
        )
        rows = [as_json(incident) for incident in result.incidents]
        header = ("series", "kind", "start", "end", "peak_score", "expected")
        table = [
            (
                series_name(row["series"]),
                row["kind"],
                row["start"],
                row["end"],
                f"{row['peak_score']:+.1f}",
                row["expected"] or "",
            )
            for row in rows
        ]
        widths = [max([len(header[i])] + [len(r[i]) for r in table]) for i in range(len(header))]
        for line in [header, *table]:
            click.echo(
                "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            )
        if not table:
            click.echo("no incidents")
    click.echo(result.summary(), err=True)


def series_name(series: dict[str, str | None]) -> str:
    if series["attribute"] is None:
        return str(series["type"])
    return f"{series['type']} {series['attribute']}={series['value']}"

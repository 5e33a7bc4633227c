"""`vigil anomalies`: the hourly detection, on demand. Without a Slack token it runs on the
store alone and leaves the alerts queued for the running Vigil."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from bot.cli.context import cli_context, fail, parse_at


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

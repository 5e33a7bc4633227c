"""`vigil digest`: preview, send and list the scheduled posts (the weekly digest, the
investigation review, the daily shift summary)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.context import cli_context, fail
from workflows.jobs import JobRunner
from workflows.periods import Period, PeriodError
from workflows.reports import DigestReport, Reports


@click.group()
def digest() -> None:
    """The weekly digest, the investigation review and the daily shift summary."""


def _reports() -> Reports:
    # The renderer imports matplotlib only when a chart is drawn; jobs queued here (a post
    # sent from the CLI) are run by this command or, later, by the running Vigil's worker.
    from bot.charts import MatplotlibChartRenderer

    cli = cli_context()
    return Reports(
        cli.db, cli.clock, cli.config, jobs=JobRunner(cli.db, cli.clock), renderer=MatplotlibChartRenderer()
    )


def _period_for(reports: Reports, digest_name: str, text: str | None) -> Period:
    if text is None:
        if digest_name == "shift":
            fail("vigil: --day is required for the shift summary (e.g. --day 2026-11-23)", 2)
        return reports.due_period(digest_name)
    try:
        return reports.period_of(digest_name, text)
    except (PeriodError, ValueError) as exc:
        fail(f"vigil: {exc}", 2)


_digest_option = click.option(
    "--digest",
    "digest_name",
    type=click.Choice(["weekly", "investigations", "shift"]),
    default="weekly",
    show_default=True,
    help="which post",
)


@digest.command("preview")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W46 (default: the last full week)")
@click.option("--day", default=None, help="the day, for --digest shift (e.g. 2026-11-23)")
@_digest_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="also write the Block Kit JSON and charts here",
)
def digest_preview(week: str | None, day: str | None, digest_name: str, out: str | None) -> None:
    """Print a digest in the terminal as it would be posted (nothing is posted)."""
    # Here, not at the top: the renderer's package loads every Slack adapter, which
    # `digest runs` does not need.
    from commands.blocks.reports import as_text, report_blocks

    reports = _reports()
    period = _period_for(reports, digest_name, day if digest_name == "shift" else week)
    report = reports.build(digest_name, period)
    text, blocks = report_blocks(report)
    click.echo(as_text(blocks), nl=False)
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{digest_name}-{period.name}"
        (folder / f"{stem}.json").write_text(
            json.dumps({"text": text, "blocks": blocks}, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        written = [f"{stem}.json"]
        if isinstance(report, DigestReport):
            for chart in reports.charts(report):
                (folder / f"{stem}-{chart.name}.png").write_bytes(chart.png)
                written.append(f"{stem}-{chart.name}.png")
        click.echo(f"wrote {', '.join(written)} to {folder}")


@digest.command("send")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W46 (default: the latest due)")
@click.option("--day", default=None, help="the day, for --digest shift (e.g. 2026-11-23)")
@_digest_option
@click.option(
    "--force", is_flag=True, help="post again even if this period was posted (recorded as a new round)"
)
def digest_send(week: str | None, day: str | None, digest_name: str, force: bool) -> None:
    """Post a digest now, once: a period already posted is refused unless --force."""
    from commands.reports import SlackReportNotifier  # see digest_preview

    cli = cli_context()
    settings, config = cli.settings, cli.config
    if settings.slack_bot_token is None:
        fail("vigil: SLACK_BOT_TOKEN is not set; the digest is posted to Slack", 2)
    ctx, client = cli.app()
    period = _period_for(ctx.reports, digest_name, day if digest_name == "shift" else week)
    claimed = ctx.reports.claim(digest_name, period.name, force=force, enqueue_post=False)
    if claimed.outcome == "exists":
        fail(
            f"vigil: the {digest_name} digest for {period.name} was already posted or claimed "
            f"(ts {claimed.ts or '-'}); --force posts it again"
        )
    if claimed.outcome == "busy":
        fail(f"vigil: the {digest_name} digest for {period.name} is being posted right now")
    if claimed.outcome in ("gave_up", "interrupted"):
        fail(f"vigil: {period.name}: {claimed.error}; --force posts it again")
    notifier = SlackReportNotifier(client, config)
    result = ctx.reports.post(digest_name, period.name, claimed.round, notifier, queue_charts=False)
    if result.outcome != "posted":
        fail(f"vigil: {digest_name} {period.name} not posted: {result.error or result.outcome}")
    charts = ctx.reports.upload_charts(result.run_id or 0, notifier) if digest_name == "weekly" else []
    click.echo(
        f"posted the {digest_name} digest for {period.name} in {config.channels.digest} (ts {result.ts})"
        + (f" with {len(charts)} chart(s)" if charts else "")
        + (" (forced: a new round)" if force else "")
    )


@digest.command("runs")
@click.option("--limit", default=20, show_default=True)
def digest_runs(limit: int) -> None:
    """Recent digest runs: period, status, attempts, error."""
    runs = _reports().runs(limit)
    if not runs:
        click.echo("no digest runs yet")
    for run in runs:
        error = f"  {run.error}" if run.error else ""
        click.echo(
            f"{run.digest:<15} {run.period:<10} {run.status:<8} round {run.round} attempts {run.attempts}"
            f"  ts {run.ts or '-'}  charts {len(run.charts or [])}{error}"
        )

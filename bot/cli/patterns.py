"""`vigil patterns`: the abuse patterns Vigil tracks, and the hourly detection on demand.
Without a Slack token `detect` runs on the store alone and leaves the alerts queued for the
running Vigil to post."""

from __future__ import annotations

import re

import click

from bot.cli.context import cli_context, fail, parse_at
from store.patterns import parse_pattern_ref
from workflows.jobs import JobRunner
from workflows.patterns import Patterns, PatternView, RuleDrafts, TopTermsLabeler
from workflows.playbooks import AccountFeatures


@click.group()
def patterns() -> None:
    """Abuse patterns (PAT-n): clusters of reports, cases and shared fingerprints."""


def _offline() -> Patterns:
    cli = cli_context()
    return Patterns(cli.db, cli.clock, cli.config, TopTermsLabeler(), jobs=JobRunner(cli.db, cli.clock))


def _line(p: PatternView) -> str:
    dismissed = " [not abuse]" if p.feedback == "not_abuse" else ""
    return (
        f"{p.ref:<8} size {p.size:<5} accounts {p.account_count:<4} "
        f"+{p.day} today/+{p.week} week ({p.prev_day}/{p.prev_week} before)  "
        f"{p.kind:<11} {p.title}{dismissed}"
    )


@patterns.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def patterns_list(limit: int) -> None:
    """One line per pattern, most recently seen first: PAT-n, size, growth and label."""
    found = _offline().list(limit)
    if not found:
        click.echo("no patterns yet (run `vigil patterns detect`)")
    for p in found:
        click.echo(_line(p))


@patterns.command("show")
@click.argument("ref")
def patterns_show(ref: str) -> None:
    """A pattern's figures, examples, accounts and what became of them, and its drafted rules."""
    pattern_id = parse_pattern_ref(ref)
    if pattern_id is None:
        fail(f"vigil: {ref!r} is not a pattern id (PAT-n)", 2)
    service = _offline()
    p = service.get(pattern_id, with_outcomes=True)
    if p is None:
        fail(f"vigil: {ref.upper()} does not exist")
    click.echo(f"{p.ref} · {p.kind_label}: {p.title}")
    if p.name:
        click.echo(f"label: {p.label}")
    click.echo(f"size {p.size}, {p.account_count} accounts; {p.growth}")
    click.echo(f"first seen {p.first_seen:%Y-%m-%d %H:%M} UTC, last seen {p.last_seen:%Y-%m-%d %H:%M} UTC")
    click.echo(f"status: {p.feedback or p.status}")
    if p.outcomes is not None:
        o = p.outcomes
        click.echo(f"accounts: {o.actioned} actioned, {o.reversed} reversed, {o.active} still active")
        if o.linked:
            click.echo(f"named by: {', '.join(o.linked)}")
    if p.top_accounts:
        click.echo("top accounts: " + ", ".join(f"{a['account_id']} ({a['count']})" for a in p.top_accounts))
    for example in p.examples:
        click.echo(f"  > {' '.join(example.split())}")
    cli = cli_context()
    for draft in RuleDrafts(cli.db, cli.clock, cli.config, AccountFeatures()).of_pattern(p.id):
        saved = f", saved to {draft.saved_path}" if draft.saved_path else ""
        precision = "n/a" if draft.precision is None else f"{draft.precision:.2f}"
        recall = "n/a" if draft.recall is None else f"{draft.recall:.2f}"
        click.echo(f"rule {draft.rule_id}: precision {precision}, recall {recall}{saved}")


@patterns.command("link")
@click.argument("ref")
@click.argument("subject")
@click.option("--by", "user", required=True, help="the Slack user id recorded as having linked them")
def patterns_link(ref: str, subject: str, user: str) -> None:
    """Record that an investigation or an enforcement request (INV-n, REQ-n) is about PAT-n."""
    pattern_id = parse_pattern_ref(ref)
    if pattern_id is None:
        fail(f"vigil: {ref!r} is not a pattern id (PAT-n)", 2)
    if not re.fullmatch(r"(INV|REQ)-[1-9]\d*", subject.strip().upper()):
        fail(f"vigil: {subject!r} is neither an investigation (INV-n) nor a request (REQ-n)", 2)
    if not _offline().link(pattern_id, subject.strip().upper(), user):
        fail(f"vigil: {ref.upper()} does not exist")
    click.echo(f"linked {subject.strip().upper()} to PAT-{pattern_id}")


@patterns.command("detect")
@click.option("--at", "at", help="cluster the window before this time (ISO 8601, default now)")
def patterns_detect(at: str | None) -> None:
    """Run the detection now and print what it found (new or fast-growing patterns are posted)."""
    cli = cli_context()
    settings, _config = cli.settings, cli.config  # a bad config is told before a bad --at
    when = parse_at(at)
    if settings.slack_bot_token is not None:
        ctx, _client = cli.app()
        report = ctx.patterns.detect(when)
        posted: int | None = ctx.jobs.run_until_idle()
    else:
        report = _offline().detect(when)
        posted = None
    click.echo(f"items clustered: {report.items}")
    for p in report.new:
        click.echo(f"new: {_line(p)}")
    for p in report.grown:
        click.echo(f"grew: {_line(p)}")
    if report.unchanged:
        click.echo(f"unchanged: {report.unchanged}")
    if not (report.new or report.grown or report.unchanged):
        click.echo("no patterns")
    if report.queued:
        click.echo("to post: " + ", ".join(p.ref for p in report.queued))
    if posted is None:
        if report.queued:
            click.echo("SLACK_BOT_TOKEN is not set: alerts are queued for the running Vigil to post")
    else:
        click.echo(f"Slack posts sent: {posted}")

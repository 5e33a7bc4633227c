"""`vigil ai`: the ledger of calls to the language model, and a summary on demand."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, fail
from workflows.ai import Assistant
from workflows.cases import parse_case_ref
from workflows.playbooks import parse_since


def _assistant() -> Assistant:
    from bot.services import ai_assistant

    cli = cli_context()
    return ai_assistant(cli.settings, cli.config, cli.db, cli.clock)


@click.group()
def ai() -> None:
    """AI assistance: the calls made to the language model, summaries."""


@ai.command("calls")
@click.option("--since", default="7d", show_default=True, help="from: an ISO date or 30d, 12h, 2w")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="recent calls")
def ai_calls(since: str, limit: int) -> None:
    """Recent calls to the language model: tokens, latency, failures, per task."""
    cli = cli_context()
    now = cli.clock.now()
    try:
        start = parse_since(since, now)
    except ValueError:
        fail(f"vigil: --since {since!r}: use an ISO date (2026-11-01) or 30d, 12h, 2w", 2)
    assistant = _assistant()
    tz = cli.config.tz
    click.echo(
        f"AI calls from {start.astimezone(tz):%Y-%m-%d %H:%M} to {now.astimezone(tz):%Y-%m-%d %H:%M} ({tz})"
    )
    totals = assistant.totals(start)
    if not totals:
        click.echo("no calls" + ("" if assistant.gateway.configured else " (no OPENAI_API_KEY: offline)"))
        return
    calls = sum(t[2] for t in totals)
    failures = sum(t[2] for t in totals if t[1] != "ok")
    tokens_in, tokens_out = sum(t[3] for t in totals), sum(t[4] for t in totals)
    click.echo(f"calls {calls}, failures {failures}, tokens in {tokens_in}, out {tokens_out}")
    click.echo(f"{'task':<18} {'outcome':<17} {'calls':>6} {'tokens in':>10} {'tokens out':>10}")
    for task, outcome, count, t_in, t_out in totals:
        click.echo(f"{task:<18} {outcome:<17} {count:>6} {t_in:>10} {t_out:>10}")
    click.echo("recent:")
    for call in assistant.calls(limit, start):
        click.echo(
            f"{call.at.astimezone(tz):%Y-%m-%d %H:%M:%S} {call.task:<16} {call.outcome:<16} "
            f"{call.model} in={call.tokens_in} out={call.tokens_out} {call.latency_ms}ms "
            f"prompt={call.template_hash} {call.subject or ''}".rstrip()
        )


@ai.command("summarize")
@click.argument("ref")
def ai_summarize(ref: str) -> None:
    """Print a summary of CASE-n (AI-written, or extractive without a model)."""
    case_id = parse_case_ref(ref)
    if case_id is None:
        fail(f"vigil: {ref!r} is not a case id (CASE-12)", 2)
    view = _assistant().summarize_case(case_id)
    if view is None:
        fail(f"vigil: no case {ref}", 1)
    click.echo(
        f"{view.ref} — {view.by.label}" + (f" (input {view.by.truncated})" if view.by.truncated else "")
    )
    click.echo(view.summary.summary)
    for fact in view.summary.key_facts:
        click.echo(f"- {fact}")
    for question in view.summary.open_questions:
        click.echo(f"? {question}")
    click.echo(f"next: {view.summary.next_step}")

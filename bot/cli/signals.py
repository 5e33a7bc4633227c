"""`vigil signals`: load abuse signals from a file, all or nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from bot.cli.context import cli_context, fail
from workflows.signals import MAX_BATCH, read_signal_file


@click.group()
def signals() -> None:
    """Abuse signals (telemetry and reports)."""


@signals.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    help="file format (default: from the extension; .csv is CSV, anything else JSON Lines)",
)
def signals_import(file: Path, fmt: str | None) -> None:
    """Load signals from a CSV or JSON Lines FILE: all of it, or nothing if any row is bad.

    CSV columns: type, account_id, occurred_at, and optionally id, value, attributes (a JSON
    object); any other column becomes an attribute. JSON Lines: one signal object per line,
    as in the HTTP API.
    """
    sig, _anomalies, _investigations = cli_context().signal_services()
    fmt = fmt or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    validator = sig.validator()
    total, bad = 0, []
    for line, item in read_signal_file(file, fmt):
        total += 1
        result = validator(item)
        if isinstance(result, list):
            bad.append((line, result))
    if bad:
        for line, errors in bad[:50]:
            click.echo(f"{file.name}:{line}: {'; '.join(errors)}", err=True)
        more = " (first 50 shown)" if len(bad) > 50 else ""
        fail(f"vigil: {len(bad)} bad row(s) of {total}{more}; nothing was loaded")
    if not total:
        fail("vigil: no signals in the file")

    def chunks() -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for _line, item in read_signal_file(file, fmt):
            row = validator(item)
            assert isinstance(row, dict)  # validated above
            chunk.append(row)
            if len(chunk) >= MAX_BATCH:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    with click.progressbar(length=total, label=f"loading {total} signals", file=sys.stderr) as bar:
        result = sig.store_stream(chunks(), "import", on_chunk=bar.update)
    click.echo(
        f"loaded {result.accepted} signals ({result.duplicates} already stored, {result.reports} reports)"
    )

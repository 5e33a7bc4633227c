"""`vigil config`: the reference documents generated from the code (docs/config.md from the
config models, docs/openapi.json from the HTTP API's models), so CI can tell when they drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from bot.cli.context import fail


@click.group()
def config() -> None:
    """Reference documents generated from the code: config keys, the HTTP API, metrics."""


def _emit(render: Callable[[], str], path: Path, write: bool, check: bool, how: str) -> None:
    text = render()
    if check:
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            fail(f"vigil: {path} does not exist: run `{how} --write`")
        if current != text:
            fail(f"vigil: {path} is out of date with the code: run `{how} --write` and commit it")
        click.echo(f"{path} is up to date")
    elif write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)


def _options(default: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option(
            "--check", is_flag=True, help="Exit 1 when FILE differs from what the code generates."
        )(command)
        command = click.option("--write", is_flag=True, help="Write FILE instead of printing.")(command)
        return click.option(
            "--file",
            "path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=default,
            show_default=True,
            help="The checked-in document.",
        )(command)

    return decorate


@config.command("docs")
@_options("docs/config.md")
def config_docs(path: Path, write: bool, check: bool) -> None:
    """Every environment variable and vigil.yaml key, from the pydantic models (docs/config.md)."""
    from bot.config_docs import render

    if write and check:
        fail("vigil: use --write or --check, not both", 2)
    _emit(render, path, write, check, "vigil config docs")


@config.command("openapi")
@_options("docs/openapi.json")
def config_openapi(path: Path, write: bool, check: bool) -> None:
    """The OpenAPI 3.1 document of Vigil's HTTP API (docs/openapi.json)."""
    from bot.openapi import render

    if write and check:
        fail("vigil: use --write or --check, not both", 2)
    _emit(render, path, write, check, "vigil config openapi")


@config.command("metrics")
@_options("docs/metrics.md")
def config_metrics(path: Path, write: bool, check: bool) -> None:
    """Every Prometheus metric Vigil exposes, from workflows/metrics.py (docs/metrics.md)."""
    from bot.metrics_docs import render

    if write and check:
        fail("vigil: use --write or --check, not both", 2)
    _emit(render, path, write, check, "vigil config metrics")

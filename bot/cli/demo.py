"""`vigil demo`: a week of T&S in Slack, without Slack."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.context import fail


@click.command()
@click.option("--seed", default=7, show_default=True, type=int, help="the same seed plays the same week")
@click.option("--step", is_flag=True, help="pause between scenes (press Enter), for a live walkthrough")
@click.option(
    "--db", "db_url", default=None, help="database URL (default: a fresh SQLite file in a temp folder)"
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder for demo.html, transcript.txt and charts/ (default: the temp folder)",
)
def demo(seed: int, step: bool, db_url: str | None, out: Path | None) -> None:
    """Play a week of Trust & Safety against a fake Slack: no tokens, no network."""
    from bot.demo.runner import run_demo
    from store import migrate

    if db_url is not None:
        try:
            migrate.upgrade(db_url)  # the demo migrates it again: a no-op, after this check
        except Exception as exc:
            fail(f"vigil demo: cannot use --db {db_url!r}: {type(exc).__name__}: {exc}".splitlines()[0], 2)
    try:
        result = run_demo(seed=seed, step=step, db_url=db_url, out=out)
    except KeyboardInterrupt:
        fail("vigil demo: stopped", 130)
    if not (result.outcomes["audit_ok"] and result.outcomes["digest_posts"] == 1):
        fail("vigil demo: the week did not end as it should (see the log above)")

"""`vigil rules`: playbook rules checked, tested against their examples, backtested on the
stored history and reloaded."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from bot.cli.context import cli_context, fail
from workflows.enforcement import ReversedSuspensionLabels
from workflows.playbooks import (
    AccountFeatures,
    CaseOutcomeLabels,
    PlaybookError,
    RuleSet,
    backtest,
    load_rules,
    parse_since,
    run_examples,
)


@click.group()
def rules() -> None:
    """Playbook rules: check, test, backtest, reload."""


def _load_rules(folder: str | None) -> RuleSet:
    config = cli_context().config  # read even with --playbooks: a bad config stops here
    path = Path(folder) if folder else config.playbooks
    try:
        loaded = load_rules(path)
    except PlaybookError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        fail(f"rules: {len(exc.problems)} problem(s) in {path}")
    return loaded


_folder_option = click.option(
    "--playbooks", "folder", default=None, help="a candidate folder (default: the config's)"
)


@rules.command("check")
@_folder_option
def rules_check(folder: str | None) -> None:
    """Validate and compile every playbook file."""
    loaded = _load_rules(folder)
    if not loaded.rules:
        fail(f"rules: no rules in {loaded.folder} (is that the right folder?)")
    modes = {m: sum(1 for r in loaded.rules if r.rule.mode == m) for m in ("live", "shadow", "off")}
    click.echo(
        f"OK: {len(loaded.rules)} rules in {len(loaded.files)} file(s), version {loaded.version} "
        f"({modes['live']} live, {modes['shadow']} shadow, {modes['off']} off)"
    )


@rules.command("test")
@_folder_option
@click.option("--rule", "rule_id", default=None, help="only this rule's examples")
def rules_test(folder: str | None, rule_id: str | None) -> None:
    """Run the examples declared next to each rule, like unit tests."""
    loaded = _load_rules(folder)
    results = run_examples(loaded, rule_id)
    for result in results:
        status = "PASS" if result.ok else "FAIL"
        error = f": {result.error}" if result.error else ""
        detail = "" if result.ok else f" (expected {result.expected}, got {result.got}{error})"
        click.echo(f"{status} {result.rule_id}: {result.example}{detail}")
    failed = sum(not r.ok for r in results)
    untested = [r.id for r in loaded.rules if not r.rule.examples and (rule_id is None or r.id == rule_id)]
    if untested:
        click.echo(f"no examples: {', '.join(untested)}")
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@rules.command("backtest")
@_folder_option
@click.option("--since", default="30d", show_default=True, help="how far back: 30d, 12h, 2w or an ISO date")
@click.option("--rule", "rule_id", default=None, help="only this rule")
@click.option(
    "--csv", "csv_path", default=None, type=click.Path(dir_okay=False), help="also write the table as CSV"
)
@click.option(
    "--compare",
    "other_folder",
    default=None,
    help="a second folder replayed over the same history, side by side with the current one",
)
def rules_backtest(
    folder: str | None, since: str, rule_id: str | None, csv_path: str | None, other_folder: str | None
) -> None:
    """Replay stored history through the current (or a candidate) playbook folder."""
    loaded = _load_rules(folder)
    if other_folder is not None:
        from bot.cli.coverage import compare_folders

        compare_folders(loaded, _load_rules(other_folder), since, rule_id, csv_path)
        return
    if rule_id and loaded.get(rule_id) is None:
        fail(f"rules: no rule {rule_id!r} in {loaded.folder}")
    cli = cli_context()
    now = cli.clock.now()
    try:
        start = parse_since(since, now)
    except ValueError as exc:
        fail(str(exc), 2)
    with cli.db.read() as session:
        labels = CaseOutcomeLabels([ReversedSuspensionLabels()])
        rows = backtest(session, loaded, start, now, AccountFeatures(), rule_id, labels)

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    header = [
        "rule",
        "trigger",
        "mode",
        "evaluated",
        "matched",
        "live",
        "new",
        "dropped",
        "tp",
        "fp",
        "fn",
        "unlabelled",
        "errors",
        "precision",
        "recall",
        "note",
    ]
    table = [
        [
            r.rule_id,
            r.trigger,
            r.mode,
            r.evaluated,
            r.matched,
            r.live_matched,
            r.newly_matched,
            r.no_longer_matched,
            r.true_positives,
            r.false_positives,
            r.false_negatives,
            r.unlabelled,
            r.errors,
            pct(r.precision),
            pct(r.recall),
            r.note,
        ]
        for r in rows
    ]
    click.echo(
        f"backtest of {loaded.folder} (version {loaded.version}) over cases since {start:%Y-%m-%d %H:%M} UTC"
    )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table, strict=False)]
    for line in [header, *table]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=False)).rstrip())
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(
                [
                    *row[:13],
                    "" if r.precision is None else f"{r.precision:.4f}",
                    "" if r.recall is None else f"{r.recall:.4f}",
                    r.note,
                ]
                for row, r in zip(table, rows, strict=True)
            )
        click.echo(f"wrote {csv_path}")


@rules.command("reload")
@_folder_option
def rules_reload(folder: str | None) -> None:
    """Check the folder a running Vigil will load; servers pick up a valid change within 15 s."""
    loaded = _load_rules(folder)
    click.echo(
        f"OK: {len(loaded.rules)} rules, version {loaded.version}. Running servers reload within 15 s "
        "(admins can force it with `/vigil rules reload`); a broken folder never replaces live rules."
    )

"""The `vigil` command line: serve, migrate, verify, diagnose — and every workflow an
operator may need without Slack.

One module per command group (bot/cli/<group>.py); each command takes its settings, config
and database from `cli_context()` (bot/cli/context.py). The `vigil` group imports a group's
module only when that group runs, and lists them all from `COMMANDS` below: `vigil --help`
needs click alone, and a command loads what it uses, not every adapter.
"""

from __future__ import annotations

import importlib

import click

# name → (module, one-line help as `vigil --help` shows it). The line is the command's own
# docstring's first sentence (a test keeps them equal): listing it here is what lets
# `vigil --help` answer without importing every command's module.
COMMANDS: dict[str, tuple[str, str]] = {
    "ai": ("bot.cli.ai", "AI assistance: the calls made to the language model, summaries."),
    "anomalies": ("bot.cli.anomalies", "Anomaly detection over signal volumes."),
    "audit": ("bot.cli.audit", "The hash-chained audit log."),
    "config": (
        "bot.cli.config",
        "Reference documents generated from the code: config keys, the HTTP API, metrics.",
    ),
    "coverage": (
        "bot.cli.coverage",
        "Detection coverage: how confirmed abuse was first found, how late, and the weak points.",
    ),
    "db": ("bot.cli.db", "Database schema (Alembic)."),
    "demo": ("bot.cli.demo", "Play a week of Trust & Safety against a fake Slack: no tokens, no network."),
    "digest": ("bot.cli.digest", "The weekly digest, the investigation review and the daily shift summary."),
    "doctor": (
        "bot.cli.doctor",
        "Check config, database, Slack token, scopes, channels and the enforcement API.",
    ),
    "enforcement": ("bot.cli.enforcement", "Enforcement requests and their actions (the ledger)."),
    "investigate": (
        "bot.cli.investigate",
        "Print ACCOUNT's investigation dossier: profile, velocity, timeline, cases, links.",
    ),
    "patterns": (
        "bot.cli.patterns",
        "Abuse patterns (PAT-n): clusters of reports, cases and shared fingerprints.",
    ),
    "qa": ("bot.cli.qa", "QA re-reviews of decisions: sampling and agreement."),
    "report": ("bot.cli.report", "Reports for spreadsheets."),
    "review": ("bot.cli.review", "The weekly review published to Confluence."),
    "rules": ("bot.cli.rules", "Playbook rules: check, test, backtest, reload."),
    "serve": (
        "bot.cli.serve",
        "Run Vigil: Slack events, commands and interactivity, the worker and the scheduler.",
    ),
    "signals": ("bot.cli.signals", "Abuse signals (telemetry and reports)."),
    "sla": ("bot.cli.sla", "Case SLAs."),
    "transparency": ("bot.cli.transparency", "DSA transparency figures: restrictions, appeals, statements."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands live in `COMMANDS` and are imported when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _help = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), cmd_name)
        assert isinstance(command, click.Command), module
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing would import every command for its short help; a stand-in
        # carrying the listed line is shortened the same way.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=text).get_short_help_str(limit))
            for name, (_, text) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vigil", prog_name="vigil", message="%(prog)s %(version)s")
def main() -> None:
    """Vigil: Trust & Safety operations in Slack."""
    # Imported here, not above: `vigil --help` and `--version` never need settings or logging.
    from bot.cli.context import open_cli_context
    from bot.logging import configure_logging

    settings = open_cli_context().settings
    configure_logging(settings.vigil_log_format, settings.vigil_log_level)

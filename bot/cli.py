"""The `vigil` command line: serve, migrate, verify, diagnose — and every workflow an
operator may need without Slack."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from workflows.config import ConfigError, Settings, VigilConfig, load_config


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def settings_and_config() -> tuple[Settings, VigilConfig]:
    settings = Settings()
    try:
        return settings, load_config(settings.vigil_config)
    except ConfigError as exc:
        fail(str(exc), 2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Vigil: Trust & Safety operations in Slack."""
    from bot.logging import configure_logging

    settings = Settings()
    configure_logging(settings.vigil_log_format, settings.vigil_log_level)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="interface to listen on")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--socket-mode", is_flag=True, help="connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP"
)
def serve(host: str, port: int, socket_mode: bool) -> None:
    """Run Vigil: Slack events, commands and interactivity, the worker and the scheduler."""
    from bot.runtime import build_context
    from bot.serve import StartupError
    from bot.serve import serve as run

    settings, config = settings_and_config()
    missing = settings.missing_for_serve(socket_mode)
    ctx, client = build_context(settings, config)
    try:
        run(ctx, client, host, port, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}", 2 if missing else 1)


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    from store import migrate

    settings = Settings()
    try:
        migrate.upgrade(settings.vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION (`base` empties it)."""
    from store import migrate

    try:
        migrate.downgrade(Settings().vigil_database_url, revision)
    except Exception as exc:
        fail(f"vigil: migration failed: {exc}")
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the one this Vigil needs."""
    from store.db import Database

    status = Database(Settings().vigil_database_url).schema_status()
    click.echo(f"current: {status.current or '(empty)'}\nhead:    {status.head}")
    if not status.up_to_date:
        fail("schema is behind: run `vigil db upgrade`")


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 on any changed or deleted row."""
    from store.db import Database
    from workflows.audit import verify

    database = Database(Settings().vigil_database_url)
    with database.read() as session:
        result = verify(session)
    if result.ok:
        click.echo(f"audit log OK: {result.entries} entries, head {result.head}")
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    fail(f"audit log BROKEN: {len(result.problems)} problem(s) in {result.entries} entries")


@main.group()
def sla() -> None:
    """Case SLAs."""


@sla.command("check")
def sla_check() -> None:
    """Post due SLA nudges and breach notices now (the scheduler runs the same check every minute)."""
    from bot.runtime import build_context

    settings, config = settings_and_config()
    if settings.slack_bot_token is None:
        fail("vigil: SLACK_BOT_TOKEN is not set; the nudges are posted to Slack", 2)
    ctx, _client = build_context(settings, config)
    report = ctx.escalations.check_sla()
    posted = ctx.jobs.run_until_idle()
    click.echo(f"nudged: {', '.join(report.nudged) or 'none'}")
    click.echo(f"breached: {', '.join(report.breached) or 'none'}")
    click.echo(f"Slack posts sent: {posted}")


# --- signals, anomalies, investigations -------------------------------------------------------
def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"vigil: --at {value!r} is not an ISO 8601 time (e.g. 2026-11-23T10:00Z)", 2)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _services(settings: Settings, config: VigilConfig) -> Any:
    from bot.runtime import signal_services
    from store.db import Database
    from workflows.clock import SystemClock

    return signal_services(settings, config, Database(settings.vigil_database_url), SystemClock())


@main.group()
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
    from workflows.signals import MAX_BATCH, read_signal_file

    settings, config = settings_and_config()
    sig, _anomalies, _investigations = _services(settings, config)
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

    def chunks() -> Any:
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


@main.group()
def anomalies() -> None:
    """Anomaly detection over signal volumes."""


@anomalies.command("detect")
@click.option("--at", "at", help="judge the hour before this time (ISO 8601, default now)")
def anomalies_detect(at: str | None) -> None:
    """Run the hourly detection now and print what it found (new anomalies are posted)."""
    settings, config = settings_and_config()
    when = _parse_at(at)
    if settings.slack_bot_token is not None:
        from bot.runtime import build_context

        ctx, _client = build_context(settings, config)
        report = ctx.anomalies.detect(when)
        posted = ctx.jobs.run_until_idle()
    else:
        _signals, detector, _investigations = _services(settings, config)
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


@main.command()
@click.argument("account")
@click.option("--at", "at", help="as of this time (ISO 8601, default now)")
def investigate(account: str, at: str | None) -> None:
    """Print ACCOUNT's investigation dossier: profile, velocity, timeline, cases, links."""
    settings, config = settings_and_config()
    _signals, _anomalies, investigations = _services(settings, config)
    if not config.enforcement.account_id_regex().fullmatch(account):
        fail(f"vigil: {account!r} is not an account id", 2)
    click.echo(dossier_text(investigations.dossier(account, _parse_at(at))))


def dossier_text(dossier: Any) -> str:
    out = [f"Investigation of {dossier.account_id} (as of {dossier.at:%Y-%m-%d %H:%M} UTC)", ""]
    profile = dossier.profile
    out.append(f"Profile: {profile.status}" + (f" ({profile.detail})" if profile.detail else ""))
    for key, value in list(profile.data.items())[:10]:
        out.append(f"  {key}: {value}")
    velocity = dossier.velocity
    age = velocity.get("account_age_days")
    out += ["", f"Signals: {dossier.signal_total} in all; first seen {velocity.get('first_seen') or 'never'}"]
    if age is not None:
        out.append(f"Account age: {age:g} days ({velocity['account_age_source']})")
    out.append("Velocity (count; population p50/p90/p99):")
    for kind, week in velocity["windows"]["7d"].items():
        if not week["count"]:
            continue
        parts = []
        for window in ("1h", "24h", "7d"):
            count = velocity["windows"][window][kind]["count"]
            stats = velocity["population"].get(window, {}).get(kind)
            typical = f" ({stats['p50']:g}/{stats['p90']:g}/{stats['p99']:g})" if stats else ""
            parts.append(f"{window} {count}{typical}")
        out.append(f"  {kind}: " + ", ".join(parts))
    out += ["", "Timeline:"]
    out += [f"  {item.at:%Y-%m-%d %H:%M} {item.kind:<13} {item.text}" for item in dossier.timeline] or [
        "  (empty)"
    ]
    out += ["", "Cases:"]
    out += [f"  {c.ref} {c.priority} {c.category} {c.status}" for c in dossier.cases] or ["  none"]
    out += ["", "Enforcement history:"]
    out += [f"  {r.at:%Y-%m-%d %H:%M} {r.action} {r.status} {r.ref or ''}" for r in dossier.enforcement] or [
        "  none recorded"
    ]
    out += ["", "Linked accounts:"]
    out += [
        f"  {link.account_id}: " + ", ".join(f"{k}={v}" for k, v in link.shared) for link in dossier.linked
    ] or ["  none"]
    out += ["", "Rules that matched:"]
    out += [f"  {m.at:%Y-%m-%d %H:%M} {m.rule}" for m in dossier.rules] or ["  none"]
    return "\n".join(out)


@main.command()
def doctor() -> None:
    """Check config, database, Slack token, scopes, channels and the enforcement API."""
    from bot.doctor import run_checks

    failed = False
    for check in run_checks(Settings()):
        click.echo(check.line())
        failed = failed or check.level == "FAIL"
    if failed:
        fail("doctor: some checks failed; fix the lines marked FAIL")


if __name__ == "__main__":
    main()

"""The `vigil` command line: serve, migrate, verify, diagnose — and every workflow an
operator may need without Slack."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from workflows.config import ConfigError, Settings, VigilConfig, load_config

if TYPE_CHECKING:
    from workflows.periods import Period
    from workflows.playbooks import RuleSet
    from workflows.reports import Reports


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
@click.version_option(package_name="vigil", prog_name="vigil", message="%(prog)s %(version)s")
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
    from bot.serve import StartupError, check_environment
    from bot.serve import serve as run

    settings, config = settings_and_config()
    try:
        check_environment(settings, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}", 2)
    ctx, client = build_context(settings, config, announce_reload_errors=True)
    try:
        run(ctx, client, host, port, socket_mode)
    except StartupError as exc:
        fail(f"vigil: {exc}")


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
    """Post due SLA nudges and breach notices now (the scheduler runs the same check every minute).

    Without SLACK_BOT_TOKEN the check still runs and its posts wait for the running Vigil."""
    from bot.runtime import build_context

    settings, config = settings_and_config()
    ctx, _client = build_context(settings, config)
    report = ctx.cases.check_sla()
    click.echo(f"nudged: {', '.join(report.nudged) or 'none'}")
    click.echo(f"breached: {', '.join(report.breached) or 'none'}")
    if settings.slack_bot_token is None:
        # The marks and their post jobs are stored: the running Vigil posts them, once.
        click.echo(
            "SLACK_BOT_TOKEN is not set: nothing was posted from here; "
            "the running Vigil posts these nudges and notices"
        )
        return
    click.echo(f"Slack posts sent: {ctx.jobs.run_until_idle()}")


@main.group()
def rules() -> None:
    """Playbook rules: check, test, backtest, reload."""


def _load_rules(folder: str | None) -> tuple[Settings, VigilConfig, RuleSet]:
    from workflows.playbooks import PlaybookError, load_rules

    settings, config = settings_and_config()
    path = Path(folder) if folder else config.playbooks
    try:
        loaded = load_rules(path)
    except PlaybookError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        fail(f"rules: {len(exc.problems)} problem(s) in {path}")
    return settings, config, loaded


_folder_option = click.option(
    "--playbooks", "folder", default=None, help="a candidate folder (default: the config's)"
)


@rules.command("check")
@_folder_option
def rules_check(folder: str | None) -> None:
    """Validate and compile every playbook file."""
    _, _, loaded = _load_rules(folder)
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
    from workflows.playbooks import run_examples

    _, _, loaded = _load_rules(folder)
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
def rules_backtest(folder: str | None, since: str, rule_id: str | None, csv_path: str | None) -> None:
    """Replay stored history through the current (or a candidate) playbook folder."""
    import csv

    from store.db import Database
    from workflows.clock import SystemClock
    from workflows.enforcement import ReversedSuspensionLabels
    from workflows.features import AccountFeatures
    from workflows.playbooks import CaseOutcomeLabels, backtest, parse_since

    settings, _, loaded = _load_rules(folder)
    if rule_id and loaded.get(rule_id) is None:
        fail(f"rules: no rule {rule_id!r} in {loaded.folder}")
    now = SystemClock().now()
    try:
        start = parse_since(since, now)
    except ValueError as exc:
        fail(str(exc), 2)
    database = Database(settings.vigil_database_url)
    with database.read() as session:
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
    _, _, loaded = _load_rules(folder)
    click.echo(
        f"OK: {len(loaded.rules)} rules, version {loaded.version}. Running servers reload within 15 s "
        "(admins can force it with `/vigil rules reload`); a broken folder never replaces live rules."
    )


@main.group()
def enforcement() -> None:
    """Enforcement requests and their actions (the ledger)."""


@enforcement.command("request")
@click.argument("action", type=click.Choice(["suspend", "reinstate"]))
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="CSV or text file of ids")
@click.option("--accounts", default="", help="ids separated by spaces or commas (with or without --file)")
@click.option("--reason", required=True, help="a reason code from enforcement.reason_codes")
@click.option(
    "--requester",
    required=True,
    help="the Slack user id (U…/W…) asking; must hold the analyst role, and can never approve it",
)
@click.option("--evidence", default="", help="links, case id (CASE-12)")
@click.option("--note", default="")
@click.option("--appeal-reviewed", is_flag=True, help="reinstatement: the appeal was reviewed")
@click.option(
    "--evidence-rechecked", is_flag=True, help="reinstatement: the original evidence was re-checked"
)
@click.option("--root-cause", default="", help="reinstatement: why the suspension was wrong")
def enforcement_request(
    action: str,
    path: str | None,
    accounts: str,
    reason: str,
    requester: str,
    evidence: str,
    note: str,
    appeal_reviewed: bool,
    evidence_rechecked: bool,
    root_cause: str,
) -> None:
    """Ask for ACTION on accounts; approvers still decide in Slack.

    An operator tool: whoever can run it with Vigil's database and token is trusted to name
    the requester. The requester must be a Slack user id holding the analyst role (approvers
    and admins may act as analysts), four-eyes holds against them, and your OS user is
    recorded with the request in the audit log (cli_user).
    """
    import getpass
    from pathlib import Path

    from bot.runtime import build_context
    from workflows.enforcement import Draft, OpenRequestConflict, check_draft, read_id_file

    settings, config = settings_and_config()
    _check_requester(settings, config, requester)
    checklist = [
        name
        for name, on in (("appeal_reviewed", appeal_reviewed), ("evidence_rechecked", evidence_rechecked))
        if on
    ]
    draft = Draft(
        action=action,  # type: ignore[arg-type]
        requester=requester,
        accounts_text=accounts,
        file_ids=read_id_file(Path(path).read_bytes()) if path else [],
        reason_code=reason,
        evidence=evidence,
        note=note,
        checklist=checklist,
        root_cause=root_cause,
        source="cli",
        cli_user=getpass.getuser(),
    )
    checked = check_draft(draft, config.enforcement)
    if not checked.ok:
        for key, message in checked.errors.items():
            click.echo(f"{key}: {message}", err=True)
        fail("enforcement: request not created")
    ctx, _client = build_context(settings, config)
    try:
        request_id = ctx.enforcer.submit(checked)
    except OpenRequestConflict as exc:
        fail(f"enforcement: request not created: {exc}")
    ctx.jobs.run_until_idle()  # post the approval card from here, now
    view = ctx.enforcer.view(request_id)
    assert view is not None
    if checked.duplicates:
        click.echo(f"{len(checked.duplicates)} duplicate id(s) removed")
    where = f"card posted in {view.card.channel}" if view.card else "the card could not be posted (see logs)"
    click.echo(
        f"{view.ref}: {action} {view.account_count} account(s), waiting for approval in Slack; {where}"
    )


def _check_requester(settings: Settings, config: VigilConfig, requester: str) -> None:
    """Fail unless ``requester`` is a Slack user who may ask (the analyst role, or above)."""
    import re

    from bot.slack_client import SlackGroupDirectory, make_client
    from workflows.config import secret
    from workflows.roles import Role, RoleBook

    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", requester):
        fail(f"vigil: --requester {requester!r} is not a Slack user id (U… or W…)", 2)
    token = secret(settings.slack_bot_token)
    directory = SlackGroupDirectory(make_client(token, settings.slack_api_url)) if token else None
    if RoleBook(config.roles, directory).has(requester, Role.analyst):
        return
    listed = [*config.roles.analysts, *config.roles.approvers, *config.roles.admins]
    groups = (
        " (user groups are resolved only with SLACK_BOT_TOKEN set)"
        if not token and any(p.startswith("S") for p in listed)
        else ""
    )
    fail(
        f"vigil: --requester {requester} is not a Vigil analyst: not in roles.analysts, approvers "
        f"or admins{groups}",
        2,
    )


@enforcement.command("list")
@click.option("--status", default=None, help="pending_approval, approved, rejected, completed or expired")
@click.option("--limit", default=50, show_default=True)
def enforcement_list(status: str | None, limit: int) -> None:
    """The latest requests, newest first."""
    from store.db import Database
    from workflows.enforcement import list_requests

    with Database(Settings().vigil_database_url).read() as session:
        views = list_requests(session, status, limit)
    if not views:
        click.echo("no enforcement requests")
    for view in views:
        counts = " ".join(f"{k}={v}" for k, v in sorted(view.counts.items()))
        click.echo(
            f"{view.ref:<9} {view.created_at:%Y-%m-%d %H:%M} {view.action:<9} {view.status:<16} "
            f"{view.account_count:>6} acct  by {view.requester}  {view.reason_code}  {counts}"
        )


@enforcement.command("show")
@click.argument("ref")
@click.option("--all", "show_all", is_flag=True, help="list every action, not only failures")
def enforcement_show(ref: str, show_all: bool) -> None:
    """One request (REQ-12 or 12): who, why, decisions and each action's outcome."""
    from store.db import Database
    from workflows.enforcement import actions_of, load_view, parse_ref

    request_id = parse_ref(ref)
    if request_id is None:
        fail(f"not a request id: {ref} (use REQ-12)")
    with Database(Settings().vigil_database_url).read() as session:
        view = load_view(session, request_id)
        if view is None:
            fail(f"{ref}: no such request")
        listed = actions_of(session, request_id, None if show_all else ["failed", "failed_retryable"])
    click.echo(f"{view.ref}  {view.action} {view.account_count} account(s)  status {view.status}")
    click.echo(
        f"requested by {view.requester} at {view.created_at:%Y-%m-%d %H:%M} UTC, reason {view.reason_code}"
    )
    if view.case_ref:
        click.echo(f"case {view.case_ref}")
    if view.reverses_request_id:
        click.echo(f"reverses REQ-{view.reverses_request_id}")
    click.echo(f"approvals {len(view.approvers)}/{view.approvals_needed}: {', '.join(view.approvers) or '-'}")
    if view.rejection_reason:
        click.echo(f"rejected by {view.decided_by}: {view.rejection_reason}")
    click.echo("actions: " + (" ".join(f"{k}={v}" for k, v in sorted(view.counts.items())) or "-"))
    for action in listed:
        detail = f" HTTP {action.result_code}" if action.result_code else ""
        error = f"  {action.error}" if action.error else ""
        click.echo(f"  {action.account_id}  {action.status}{detail}{error}  key {action.idempotency_key}")


@enforcement.command("retry-failed")
@click.argument("ref", required=False)
@click.option("--by", "actor", default=None, help="who retries (for the audit log); default cli:$USER")
def enforcement_retry_failed(ref: str | None, actor: str | None) -> None:
    """Queue failed (retryable) actions again, with the same idempotency keys.

    The running Vigil executes them. Permanent failures (404, 400, 422) stay failed.
    """
    import getpass

    from store.db import Database
    from workflows.clock import SystemClock
    from workflows.enforcement import parse_ref, retry_failed

    request_id = None
    if ref is not None:
        request_id = parse_ref(ref)
        if request_id is None:
            fail(f"not a request id: {ref} (use REQ-12)")
    with Database(Settings().vigil_database_url).transaction() as session:
        counts = retry_failed(session, SystemClock(), request_id, actor or f"cli:{getpass.getuser()}")
    if not counts:
        click.echo("nothing to retry")
    for rid, count in sorted(counts.items()):
        click.echo(f"REQ-{rid}: {count} action(s) queued again")


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
    from workflows.investigations import LedgerEnforcementHistory

    database = Database(settings.vigil_database_url)
    history = LedgerEnforcementHistory(database)  # open requests too, so nobody asks twice
    return signal_services(settings, config, database, SystemClock(), history=history)


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
    out += [
        f"  {'OPEN ' if r.open else ''}{r.at:%Y-%m-%d %H:%M} {r.action} {r.status} {r.ref or ''}".rstrip()
        for r in dossier.enforcement
    ] or ["  none recorded"]
    out += ["", "Linked accounts:"]
    out += [
        f"  {link.account_id}: " + ", ".join(f"{k}={v}" for k, v in link.shared) for link in dossier.linked
    ] or ["  none"]
    out += ["", "Rules that matched:"]
    out += [f"  {m.at:%Y-%m-%d %H:%M} {m.rule}" for m in dossier.rules] or ["  none"]
    return "\n".join(out)


@main.group()
def digest() -> None:
    """The weekly digest, the investigation review and the daily shift summary."""


def _reports(settings: Settings, config: VigilConfig) -> Reports:
    from bot.charts import MatplotlibChartRenderer
    from store.db import Database
    from workflows.clock import SystemClock
    from workflows.jobs import JobRunner
    from workflows.reports import Reports

    db, clock = Database(settings.vigil_database_url), SystemClock()
    return Reports(db, clock, config, jobs=JobRunner(db, clock), renderer=MatplotlibChartRenderer())


def _period_for(reports: Reports, digest_name: str, text: str | None) -> Period:
    from workflows.periods import PeriodError

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
    import json

    from commands.blocks.reports import as_text, report_blocks
    from workflows.reports import DigestReport

    settings, config = settings_and_config()
    reports = _reports(settings, config)
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
    from bot.runtime import build_context
    from commands.reports import SlackReportNotifier

    settings, config = settings_and_config()
    if settings.slack_bot_token is None:
        fail("vigil: SLACK_BOT_TOKEN is not set; the digest is posted to Slack", 2)
    ctx, client = build_context(settings, config)
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
    settings, config = settings_and_config()
    runs = _reports(settings, config).runs(limit)
    if not runs:
        click.echo("no digest runs yet")
    for run in runs:
        error = f"  {run.error}" if run.error else ""
        click.echo(
            f"{run.digest:<15} {run.period:<10} {run.status:<8} round {run.round} attempts {run.attempts}"
            f"  ts {run.ts or '-'}  charts {len(run.charts or [])}{error}"
        )


@main.group()
def report() -> None:
    """Reports for spreadsheets."""


@report.command("export")
@click.option("--since", required=True, help="from: an ISO date (2026-11-01) or 30d, 12h, 2w")
@click.option("--until", default=None, help="to (exclusive): an ISO date; default now")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option(
    "--table",
    type=click.Choice(["cases", "actions", "sla"]),
    default="cases",
    show_default=True,
    help="cases (one row per case), actions (one per enforcement action), sla (per week and priority)",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="a file (default: stdout)")
def report_export(since: str, until: str | None, fmt: str, table: str, out: str | None) -> None:
    """Export cases, enforcement actions or weekly SLA figures as CSV."""
    import contextlib
    import csv

    from workflows.clock import SystemClock
    from workflows.periods import local_midnight
    from workflows.playbooks import parse_since
    from workflows.reports import export_rows

    settings, config = settings_and_config()
    now = SystemClock().now()

    def instant(option: str, text: str) -> datetime:
        try:
            value = parse_since(text, now)
        except ValueError:
            fail(f"vigil: {option} {text!r}: use an ISO date (2026-11-01) or 30d, 12h, 2w", 2)
        if len(text.strip()) == 10 and value.tzinfo is now.tzinfo:  # a plain date: its local midnight
            value = local_midnight(value.date(), config.tz)
        return value

    start = instant("--since", since)
    end = instant("--until", until) if until else now
    if end <= start:
        fail("vigil: --until must be after --since", 2)
    reports = _reports(settings, config)
    rows = 0
    target = open(out, "w", newline="", encoding="utf-8") if out else contextlib.nullcontext(sys.stdout)  # noqa: SIM115
    with target as handle:
        writer = csv.writer(handle)
        with reports.db.read() as session:
            for row in export_rows(session, table, start, end, config.tz):
                writer.writerow(row)
                rows += 1
    if out:
        click.echo(f"wrote {rows - 1:,} {table} row(s) to {out}")


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

"""`vigil enforcement`: ask for a suspension or reinstatement from a shell, read the ledger,
retry failed actions."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import click

from bot.cli.context import cli_context, fail
from workflows.config import secret
from workflows.enforcement import (
    Draft,
    OpenRequestConflict,
    actions_of,
    check_draft,
    list_requests,
    load_view,
    parse_ref,
    read_id_file,
)
from workflows.roles import Role


@click.group()
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
    cli = cli_context()
    config = cli.config
    _check_requester(requester)
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
    ctx, _client = cli.app()
    try:
        request_id = ctx.enforcer.create(checked)
    except OpenRequestConflict as exc:
        # The words of a refusal live with Slack's (one wording); they load only when needed.
        from commands.blocks.enforcement import refusal_text

        fail(f"enforcement: request not created: {refusal_text(exc, plain=True)}")
    ctx.jobs.run_until_idle()  # post the approval card from here, now
    view = ctx.enforcer.view(request_id)
    assert view is not None
    if checked.duplicates:
        click.echo(f"{len(checked.duplicates)} duplicate id(s) removed")
    where = f"card posted in {view.card.channel}" if view.card else "the card could not be posted (see logs)"
    click.echo(
        f"{view.ref}: {action} {view.account_count} account(s), waiting for approval in Slack; {where}"
    )


def _check_requester(requester: str) -> None:
    """Fail unless ``requester`` is a Slack user who may ask (the analyst role, or above)."""
    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", requester):
        fail(f"vigil: --requester {requester!r} is not a Slack user id (U… or W…)", 2)
    cli = cli_context()
    if cli.roles().has(requester, Role.analyst):
        return
    token = secret(cli.settings.slack_bot_token)
    roles = cli.config.roles
    listed = [*roles.analysts, *roles.approvers, *roles.admins]
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
    with cli_context().db.read() as session:
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
    request_id = parse_ref(ref)
    if request_id is None:
        fail(f"not a request id: {ref} (use REQ-12)")
    with cli_context().db.read() as session:
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
    # Loaded here: the use cases bring the executor and its jobs, which `list` and `show` never need.
    from workflows.enforcement import retry_failed

    request_id = None
    if ref is not None:
        request_id = parse_ref(ref)
        if request_id is None:
            fail(f"not a request id: {ref} (use REQ-12)")
    cli = cli_context()
    with cli.db.transaction() as session:
        counts = retry_failed(session, cli.clock, request_id, actor or f"cli:{getpass.getuser()}")
    if not counts:
        click.echo("nothing to retry")
    for rid, count in sorted(counts.items()):
        click.echo(f"REQ-{rid}: {count} action(s) queued again")

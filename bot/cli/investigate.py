"""`vigil investigate ACCOUNT`: an account's investigation dossier in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.context import cli_context, fail, parse_at

if TYPE_CHECKING:
    from workflows.investigations import Dossier


@click.command()
@click.argument("account")
@click.option("--at", "at", help="as of this time (ISO 8601, default now)")
def investigate(account: str, at: str | None) -> None:
    """Print ACCOUNT's investigation dossier: profile, velocity, timeline, cases, links."""
    cli = cli_context()
    investigations = cli.investigations()
    if not cli.config.enforcement.account_id_regex().fullmatch(account):
        fail(f"vigil: {account!r} is not an account id", 2)
    click.echo(dossier_text(investigations.dossier(account, parse_at(at))))


def dossier_text(dossier: Dossier) -> str:
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

"""`vigil demo`: plays the week (bot/demo/scenes.py) on the stage (bot/demo/stage.py), shows
the conversation in the terminal as it happens, then writes the digest's charts, demo.html
and says where to look next."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.emoji import Emoji
from rich.rule import Rule
from rich.text import Text
from sqlalchemy import func, select

from bot.demo import html, transcript, world
from bot.demo.scenes import SCENES, Play
from bot.demo.stage import Stage, find_button
from bot.demo.transcript import Entry, Transcript
from store.anomalies import Incident
from store.cases import Case
from store.decisions import AppealRow, StatementRow
from store.enforcement import EnforcementRequest
from store.handoff import Handoff
from store.investigations import Investigation
from store.jobs import Job
from store.patterns import Pattern, PatternRule
from store.playbooks import RuleHit
from store.reports import DigestRun
from workflows.ai.assistant import JOB_SUMMARY
from workflows.audit import verify
from workflows.reports import WEEKLY

STYLES = {
    "scene": "bold magenta",
    "message": "bold cyan",
    "reaction": "cyan",
    "command": "bold cyan",
    "click": "cyan",
    "submit": "cyan",
    "post": "bold green",
    "update": "green",
    "ephemeral": "yellow",
    "modal": "yellow",
    "file": "green",
    "note": "dim",
}


@dataclass
class DemoResult:
    """What the week left behind, measured from the store and the fakes (the test reads it)."""

    workdir: Path
    db_url: str
    out: Path
    html: Path
    charts: list[Path]
    transcript: str
    seconds: float
    outcomes: dict[str, Any] = field(default_factory=dict)


def run_demo(
    *,
    seed: int = 7,
    step: bool = False,
    db_url: str | None = None,
    out: Path | None = None,
    console: Console | None = None,
    pause: Callable[[str], Any] = input,
    workdir: Path | None = None,
) -> DemoResult:
    """Play the week. ``workdir`` holds the SQLite file, vigil.yaml and the log (default: a
    new temp folder, left in place so the user can look at it afterwards)."""
    started = time.monotonic()
    console = console or Console(highlight=False)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="vigil-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out = (out or workdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    transcript.NAMES.update(world.names())
    handler, saved = _log_to(workdir / "vigil.log")
    stage: Stage | None = None
    try:
        stage = Stage(workdir, db_url, seed)
        stage.transcript.on_entry = lambda entry, t: console.print(_render(entry, t))
        play = Play(stage, world.Traffic(seed, wave_hour=world.START.replace(hour=13)))
        hits = 0
        timings: dict[str, float] = {}
        for number, (title, when, scene) in enumerate(SCENES, start=1):
            if when is not None:
                stage.transcript.add_note(f"the clock runs on to {when:%a %d %b %H:%M}", stage.day())
                play.advance_to(when)
            if step and number > 1:
                pause("  press Enter for the next scene… ")
            stage.transcript.scene(title, " ".join((scene.__doc__ or "").split()), stage.day())
            began = time.monotonic()
            with _working(console, stage, title):
                scene(play)
                stage.settle()
            timings[scene.__name__] = round(time.monotonic() - began, 2)
            hits = _rule_hit_notes(stage, hits)
        outcomes = _outcomes(stage)
        outcomes.update(play.found)
        outcomes["scene_seconds"] = timings
        charts = _write_charts(stage, out / "charts", outcomes)
        text = transcript.as_text(stage.transcript)
        (out / "transcript.txt").write_text(text, encoding="utf-8")
        seconds = time.monotonic() - started
        page = html.write(out / "demo.html", stage.transcript, stage.slack.uploads, outcomes, seconds)
        result = DemoResult(workdir, stage.db_url, out, page, charts, text, seconds, outcomes)
        _epilogue(console, result)
        return result
    finally:
        if stage is not None:
            stage.stop()
        logging.getLogger().handlers[:] = saved
        handler.close()


@contextmanager
def _working(console: Console, stage: Stage, title: str) -> Iterator[None]:
    """A status line while a scene runs: how many calls Slack and the platform have seen (a
    bulk suspension moves it by thousands)."""
    done = threading.Event()
    with console.status(title) as status:

        def tick() -> None:
            while not done.wait(0.25):
                status.update(
                    f"{title} · Slack calls {len(stage.slack.calls):,} · "
                    f"enforcement API calls {len(stage.platform.calls):,}"
                )

        watcher = threading.Thread(target=tick, name="demo-status", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()


def _log_to(path: Path) -> tuple[logging.Handler, list[logging.Handler]]:
    """Vigil's own log goes to a file in the demo's folder (formatted as configured, secrets
    redacted), not over the transcript; the handlers it replaces come back at the end."""
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        saved[0].formatter
        if saved and saved[0].formatter
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root.handlers[:] = [handler]
    return handler, saved


def _render(entry: Entry, t: Transcript) -> Any:
    if entry.kind == "scene":
        return Rule(Text(f"{entry.day} · {entry.text}", style=STYLES["scene"]), align="left")
    out = Text()
    where = transcript.where_of(entry, t)
    out.append(f"{entry.day[4:]}  ", style="dim")
    if where:
        out.append(where + "\n        ", style="dim")
    out.append(Emoji.replace(transcript.headline(entry, t)), style=STYLES.get(entry.kind, ""))
    for line in transcript.body_of(entry):
        out.append("\n          " + Emoji.replace(line).replace("\n", "\n          "))
    return out


def _rule_hit_notes(stage: Stage, seen: int) -> int:
    """Playbook matches since the last scene: a live rule acted, a shadow rule only recorded."""
    with stage.ctx.db.read() as session:
        hits = list(session.scalars(select(RuleHit).order_by(RuleHit.id).offset(seen)))
    for hit in hits:
        did = "acted" if hit.mode == "live" else "recorded what it would have done, changed nothing"
        subject = hit.subject_id if hit.subject_type == "case" else f"{hit.subject_type} {hit.subject_id}"
        stage.transcript.add_note(
            f"playbook rule {hit.rule_id} ({hit.mode}) matched {subject}: {did}", stage.day()
        )
    return seen + len(hits)


def _outcomes(stage: Stage) -> dict[str, Any]:
    with stage.ctx.db.read() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        open_cases = (
            session.scalar(select(func.count()).select_from(Case).where(Case.status != "resolved")) or 0
        )
        requests = {
            r.id: {"action": r.action, "status": r.status, "reverses": r.reverses_request_id}
            for r in session.scalars(select(EnforcementRequest).order_by(EnforcementRequest.id))
        }
        investigations = session.scalar(select(func.count()).select_from(Investigation)) or 0
        weekly = list(session.scalars(select(DigestRun).where(DigestRun.digest == WEEKLY)))
        audit = verify(session)
        modes = {
            str(mode): int(n)
            for mode, n in session.execute(select(RuleHit.mode, func.count()).group_by(RuleHit.mode))
        }
        incidents = [
            (i.state, i.message_ts, i.closed_reply_ts)
            for i in session.scalars(
                select(Incident).where(Incident.delivery == "alert").order_by(Incident.id)
            )
        ]
        summaries = list(session.scalars(select(Job.status).where(Job.kind == JOB_SUMMARY)))
        patterns = [
            {"ref": p.ref, "kind": p.kind, "status": p.status, "named": p.name is not None, "id": p.id}
            for p in session.scalars(select(Pattern).order_by(Pattern.id))
        ]
        drafts = [
            {"pattern": f"PAT-{r.pattern_id}", "rule": r.rule_id, "backtested": bool(r.backtest)}
            for r in session.scalars(select(PatternRule).order_by(PatternRule.id))
        ]
        statements: dict[int, dict[str, int]] = {}
        for request_id, status, n in session.execute(
            select(StatementRow.request_id, StatementRow.status, func.count()).group_by(
                StatementRow.request_id, StatementRow.status
            )
        ):
            statements.setdefault(int(request_id), {})[str(status)] = int(n)
        appeals = []
        for a in session.scalars(select(AppealRow).order_by(AppealRow.id)):
            case = session.get(Case, a.case_id)
            contested = session.get(EnforcementRequest, a.request_id)
            appeals.append(
                {
                    "appeal_id": a.appeal_id,
                    "category": case.category if case else None,
                    "request": f"REQ-{a.request_id}",
                    "outcome": a.outcome,
                    "decided_by": a.decided_by,
                    # Who took part in the contested request: its requester and its approver.
                    "took_part": sorted(p for p in (contested.requester, contested.decided_by) if p)
                    if contested
                    else [],
                }
            )
        handoffs = [
            {"ref": h.ref, "subject": h.subject_ref, "status": h.status, "requested_by": h.requested_by}
            for h in session.scalars(select(Handoff).order_by(Handoff.id))
        ]
    suspend_calls: dict[str, int] = {}
    with stage.platform._lock:
        for call in stage.platform.calls:
            if call.action == "suspend" and call.status:
                suspend_calls[call.account_id] = suspend_calls.get(call.account_id, 0) + 1
    wave = world.bulk_wave(stage.seed)
    digest_ts = [run.ts for run in weekly if run.status == "posted"]
    digest_posts = [
        c for c in stage.slack.calls_of("chat.postMessage") if (c.response or {}).get("ts") in digest_ts
    ]
    alerts = [c for c in stage.slack.calls_of("chat.postMessage") if c.get("channel") == world.ALERTS]
    for pattern in patterns:
        value = str(pattern.pop("id"))
        pattern["posts"] = sum(1 for c in alerts if _button_value(c, "pattern_not_abuse") == value)
    # An incident is posted once and then updated in place (the closing reply is in its thread).
    posted = {str((c.response or {}).get("ts")) for c in alerts}
    updates = stage.slack.calls_of("chat.update")
    updated = {str(c.get("ts")) for c in updates if c.get("channel") == world.ALERTS}
    incident_outcomes = [
        {"state": state, "posted": ts in posted, "updated": ts in updated, "closing_reply": reply is not None}
        for state, ts, reply in incidents
    ]
    engineering = [
        c for c in stage.slack.calls_of("chat.postMessage") if c.get("channel") == world.ENGINEERING
    ]
    for handoff in handoffs:
        handoff["posts"] = sum(
            1
            for c in engineering
            if str(c.get("text", "")).startswith(f"Requirement for Engineering {handoff['ref']}:")
        )
    with stage.platform._lock:
        told = [(appeal_id, body.get("outcome")) for appeal_id, body in stage.platform.appeal_outcomes]
    return {
        "cases": cases,
        "statements": statements,
        "appeals": appeals,
        "appeal_outcomes_told": told,
        "handoffs": handoffs,
        "open_cases": open_cases,
        "requests": requests,
        "investigations": investigations,
        "bulk_accounts": len(wave),
        "bulk_called_once": sum(1 for a in wave if suspend_calls.get(a) == 1),
        "bulk_called_twice": sum(1 for a in wave if suspend_calls.get(a, 0) > 1),
        "weekly_digests": [(run.period, run.status) for run in weekly],
        "digest_posts": len(digest_posts),
        "digest_ts": digest_ts[0] if digest_ts else None,
        "audit_ok": audit.ok,
        "audit_rows": audit.entries,
        "rule_hits": modes,
        "summaries": summaries,
        "incidents": incident_outcomes,
        "patterns": patterns,
        "rule_drafts": drafts,
        "slack_calls": len(stage.slack.calls),
    }


def _button_value(call: Any, action_id: str) -> str | None:
    try:
        return find_button(call.get("blocks"), action_id)["value"]
    except RuntimeError:  # not a message with that button
        return None


def _write_charts(stage: Stage, folder: Path, outcomes: dict[str, Any]) -> list[Path]:
    """Every chart Vigil uploaded to Slack, as the PNG it uploaded (the digest's first)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for call in stage.slack.calls_of("files.completeUploadExternal"):
        prefix = "digest" if call.get("thread_ts") == outcomes.get("digest_ts") else "alert"
        for file in call.get("files") or []:
            content = stage.slack.uploads.get(str(file.get("id")))
            if not content:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", str(file.get("title") or "chart").lower()).strip("-")[:60]
            path = folder / f"{prefix}-{len(written) + 1:02d}-{slug}.png"
            path.write_bytes(content)
            written.append(path)
    return written


def _epilogue(console: Console, result: DemoResult) -> None:
    o = result.outcomes
    console.print(Rule(Text("The week in numbers", style="bold magenta"), align="left"))
    bulk = o["requests"].get(2, {})
    lines = [
        f"cases opened: {o['cases']} ({o['open_cases']} still open)",
        f"enforcement requests: {len(o['requests'])} · the bulk: {bulk.get('status', '?')}, "
        f"{o['bulk_called_once']:,} of {o['bulk_accounts']:,} accounts called exactly once",
        f"investigations: {o['investigations']} · playbook matches: "
        + ", ".join(f"{n} {mode}" for mode, n in sorted(o["rule_hits"].items())),
        f"statements of reasons: {sum(sum(n.values()) for n in o['statements'].values()):,} · appeals: "
        + ", ".join(f"{a['appeal_id']} {a['outcome'] or 'open'}" for a in o["appeals"])
        + f" · hand-offs to Engineering: {len(o['handoffs'])}",
        f"weekly digest posted: {o['digest_posts']} time(s) · audit chain verifies: {o['audit_ok']}",
        f"finished in {result.seconds:.1f} s",
    ]
    for line in lines:
        console.print(f"  {line}")
    console.print(Rule(Text("Where to look next", style="bold magenta"), align="left"))
    console.print(f"  the transcript, Slack-like:  {result.html}")
    console.print(f"  the charts (PNG):            {result.out / 'charts'}")
    console.print(f"  the database:                {result.db_url}")
    console.print(f"  Vigil's log:                 {result.workdir / 'vigil.log'}")
    console.print("  then, in this shell:", soft_wrap=True)
    console.print(f"    export VIGIL_DATABASE_URL={result.db_url}", soft_wrap=True)
    console.print(f"    export VIGIL_CONFIG={result.workdir / 'vigil.yaml'}", soft_wrap=True)
    console.print("    vigil audit verify", soft_wrap=True)
    console.print(f"    vigil digest preview --week {world.WEEK}", soft_wrap=True)

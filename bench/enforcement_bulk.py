"""Benchmark (not a test): one bulk suspension of N accounts against the fake enforcement API.

    python bench/enforcement_bulk.py [--accounts 10000] [--latency 0.02] [--concurrency 16]
                                     [--db sqlite|postgresql://…] [--tracemalloc]

The fake API runs in its own process (so its threads do not share our GIL) and sleeps
``latency`` per call. The ideal throughput is concurrency / latency calls per second; the
report gives the measured throughput as a ratio of it, and peak memory of this process
(max RSS; with --tracemalloc also the Python heap peak, which slows the run down).
Everything the worker does in production happens here: claim under a lease, HTTP call,
result + timeline + audit row per account, progress updates, the final summary.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.fakes.enforcement import FakeEnforcement
from bot.gateways.platform import HttpPlatformGateway
from store import migrate
from store.db import Database
from workflows.clock import SystemClock
from workflows.config import EnforcementSettings
from workflows.enforcement import (
    ActionCall,
    Draft,
    Enforcer,
    EnforcerOptions,
    Outcome,
    check_draft,
)
from workflows.jobs import JobRunner
from workflows.ports import MessageRef


def serve_fake(accounts: int, latency: float, conn: Any) -> None:
    fake = FakeEnforcement(latency=latency)
    fake.add(*[f"acct_{n}" for n in range(accounts)])
    fake.start()
    conn.send(fake.url)
    conn.recv()  # until the benchmark is done
    conn.send(sum(1 for c in fake.calls if c.action == "suspend"))
    fake.stop()


class CountingNotifier:
    """The notifier port without Slack: counts what would have been posted."""

    def __init__(self) -> None:
        self.progress_updates = 0
        self.summaries = 0

    def post_card(self, request: Any) -> MessageRef:
        return MessageRef("C0APR0001", "1.000001")

    def progress(self, request: Any) -> str:
        self.progress_updates += 1
        return "1.000002"

    def summary(self, summary: Any) -> None:
        self.summaries += 1

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class NoLookups:
    """The real gateway for the calls; the bulk pre-check (not measured here) is told that
    the API cannot say, so it costs no requests."""

    def __init__(self, gateway: HttpPlatformGateway) -> None:
        self.gateway = gateway

    def execute(self, call: ActionCall) -> Outcome:
        return self.gateway.execute(call)

    def submit(self, call: ActionCall, ready: Callable[[], bool]) -> Future[Outcome | None]:
        return self.gateway.submit(call, ready)

    def lookup(self, account_id: str) -> str | None:
        return None


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ceiling(url: str, calls: int, concurrency: int) -> float:
    """Calls per second through the same gateway and the same way in (``submit``, the same
    backlog), no database: what this machine allows the HTTP side alone, in the same run."""
    gateway = HttpPlatformGateway(url, "enf-test-token", connections=concurrency)
    backlog = EnforcerOptions().backlog_factor * concurrency
    pending: set[Future[Outcome | None]] = set()
    started = time.perf_counter()
    for n in range(calls):
        if len(pending) >= backlog:
            _, pending = wait(pending, return_when=FIRST_COMPLETED)
        # Reinstatements, so the server's count of suspensions stays the benchmark's own.
        call = ActionCall(f"acct_{n}", "reinstate", f"ceiling-{n}", "spam", "", "REQ-0", "U0", [])
        pending.add(gateway.submit(call, lambda: True))
    wait(pending)
    elapsed = time.perf_counter() - started
    gateway.close()
    return calls / elapsed


def run(
    accounts: int = 10_000,
    latency: float = 0.02,
    concurrency: int = 16,
    db: str = "sqlite",
    trace: bool = False,
    measure_ceiling: bool = False,
) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_fake, args=(accounts, latency, child), daemon=True)
    server.start()
    url = parent.recv()

    tmp = tempfile.TemporaryDirectory()
    db_url = f"sqlite:///{tmp.name}/bench.db" if db == "sqlite" else db
    migrate.upgrade(db_url)
    database = Database(db_url)
    clock = SystemClock()
    config = EnforcementSettings(bulk_max=max(accounts, 1), concurrency=concurrency)
    notifier = CountingNotifier()
    gateway = HttpPlatformGateway(url, "enf-test-token", connections=concurrency)
    jobs = JobRunner(database, clock)  # what Slack is told (card, summary) runs as jobs, as in production
    enforcer = Enforcer(
        database,
        clock,
        config,
        notifier,  # type: ignore[arg-type]
        NoLookups(gateway),
        EnforcerOptions(),
        jobs=jobs,
    )
    statements = count_statements(database)

    draft = Draft(
        action="suspend",
        requester="U0ANA0001",
        file_ids=[f"acct_{n}" for n in range(accounts)],
        reason_code="spam",
        source="cli",
    )
    checked = check_draft(draft, config)
    assert checked.ok, checked.errors
    rss_before = max_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    request_id = enforcer.create(checked)
    created = time.perf_counter()
    jobs.run_until_idle()  # the approval card is posted (and the pre-check told nothing)
    enforcer.approve(request_id, "U0ADM0001", is_admin=True)
    approved = time.perf_counter()
    statements["during"] = True
    calls = enforcer.run_until_idle()
    finished = time.perf_counter()
    statements["during"] = False
    jobs.run_until_idle()  # the summary (queued with the last results)
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    if trace:
        tracemalloc.stop()

    view = enforcer.view(request_id)
    assert view is not None
    limit = ceiling(url, min(accounts, 3000), concurrency) if measure_ceiling else None
    parent.send("done")
    server_calls = parent.recv()
    server.join(10)
    gateway.close()
    database.dispose()
    tmp.cleanup()

    execute = finished - approved
    ideal = concurrency / latency
    throughput = calls / execute
    return {
        "accounts": accounts,
        "db": db if db == "sqlite" else "postgresql",
        "concurrency": concurrency,
        "latency": latency,
        "created_seconds": created - started,
        "execute_seconds": execute,
        "calls": calls,
        "server_calls": server_calls,
        "throughput": throughput,
        "ideal": ideal,
        "ratio": throughput / ideal,
        "ceiling": limit,
        "statements_per_call": statements["count"] / max(calls, 1),
        "transactions_per_call": statements["commits"] / max(calls, 1),
        "status": view.status,
        "counts": dict(sorted(view.counts.items())),
        "progress_updates": notifier.progress_updates,
        "summaries": notifier.summaries,
        "rss_before": rss_before,
        "rss_after": max_rss_mb(),
        "heap_peak": heap_peak,
    }


def count_statements(database: Database) -> dict[str, Any]:
    """Statements and commits the worker sends while it executes (round trips, on PostgreSQL)."""
    from sqlalchemy import event

    counts: dict[str, Any] = {"count": 0, "commits": 0, "during": False}

    @event.listens_for(database.engine, "before_cursor_execute")
    def _statement(*_args: Any) -> None:
        if counts["during"]:
            counts["count"] += 1

    @event.listens_for(database.engine, "commit")
    def _commit(*_args: Any) -> None:
        if counts["during"]:
            counts["commits"] += 1

    return counts


def pg_database() -> tuple[str, Callable[[], None]] | None:
    """A fresh PostgreSQL database from VIGIL_BENCH_PG_URL (an admin URL, as the tests'
    VIGIL_TEST_PG_URL), or None when no server answers."""
    import os
    import uuid

    from sqlalchemy import create_engine, make_url, text

    admin = os.environ.get("VIGIL_BENCH_PG_URL") or os.environ.get(
        "VIGIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    admin_url = make_url(admin).set(drivername="postgresql+psycopg")
    name = f"vigil_bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        return None

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def figures(quick: bool = False) -> list[dict[str, Any]]:
    accounts = 1000 if quick else 10_000
    rows = []
    stores: list[tuple[str, str, Callable[[], None] | None]] = [("SQLite", "sqlite", None)]
    pg = pg_database()
    if pg is not None:
        stores.append(("PostgreSQL", pg[0], pg[1]))
    for label, url, drop in stores:
        try:
            result = run(accounts=accounts, db=url, measure_ceiling=label == "SQLite")
        finally:
            if drop is not None:
                drop()
        ceiling_note = ""
        if result["ceiling"]:
            ceiling_note = (
                f"; the HTTP side alone (the same gateway and backlog, no database) reached "
                f"{result['ceiling']:,.0f} calls/s "
                f"({result['ceiling'] / result['ideal']:.2f} of ideal) in this run"
            )
        rows.append(
            {
                "measure": f"bulk suspension of {accounts:,} accounts, {label}, "
                "20 ms API latency, concurrency 16",
                "baseline": f"ideal = 16 / 20 ms = {result['ideal']:,.0f} calls/s",
                "now": f"{result['ratio']:.2f} of ideal ({result['throughput']:,.0f} calls/s)",
                "target": "\u2265 0.85",
                "note": (
                    f"{result['statements_per_call']:.2f} statements and "
                    f"{result['transactions_per_call']:.3f} transactions per call{ceiling_note}"
                ),
            }
        )
    if pg is None:
        rows.append(
            {
                "measure": "bulk suspension, PostgreSQL",
                "baseline": "",
                "now": "not measured",
                "target": "\u2265 0.85",
                "note": "no PostgreSQL answered at VIGIL_BENCH_PG_URL / VIGIL_TEST_PG_URL",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", default="sqlite", help="sqlite (a temp file) or a PostgreSQL URL (empty db)")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--ceiling", action="store_true", help="also measure the HTTP side alone")
    args = parser.parse_args()
    r = run(args.accounts, args.latency, args.concurrency, args.db, args.tracemalloc, args.ceiling)
    setup = f"concurrency {r['concurrency']}, latency {r['latency'] * 1000:.0f} ms"
    print(f"accounts            {r['accounts']:,} on {args.db} ({setup})")
    print(
        f"request created     {r['created_seconds']:.2f} s (request + {r['accounts']:,} action rows + audit)"
    )
    print(
        f"executed            {r['execute_seconds']:.2f} s for {r['calls']:,} calls "
        f"(API saw {r['server_calls']:,})"
    )
    print(
        f"throughput          {r['throughput']:,.0f} calls/s; ideal {r['ideal']:,.0f}/s; "
        f"ratio {r['ratio']:.2f}"
    )
    if r["ceiling"]:
        print(f"HTTP side alone     {r['ceiling']:,.0f} calls/s; ratio {r['ceiling'] / r['ideal']:.2f}")
    print(
        f"database work       {r['statements_per_call']:.2f} statements, "
        f"{r['transactions_per_call']:.3f} commits per call"
    )
    print(f"outcomes            {r['status']}: {r['counts']}")
    print(f"progress updates    {r['progress_updates']}, summaries {r['summaries']}")
    print(f"peak memory (RSS)   {r['rss_after']:.0f} MiB (before the request: {r['rss_before']:.0f} MiB)")
    if r["heap_peak"] is not None:
        print(f"peak Python heap    {r['heap_peak']:.1f} MiB (tracemalloc)")


if __name__ == "__main__":
    main()

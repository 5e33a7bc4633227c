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
    EnforcementGateway,
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

    def __init__(self, gateway: EnforcementGateway) -> None:
        self.gateway = gateway

    def execute(self, call: ActionCall) -> Outcome:
        return self.gateway.execute(call)

    def lookup(self, account_id: str) -> str | None:
        return None


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", default="sqlite", help="sqlite (a temp file) or a PostgreSQL URL (empty db)")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=serve_fake, args=(args.accounts, args.latency, child), daemon=True
    )
    server.start()
    url = parent.recv()

    tmp = tempfile.TemporaryDirectory()
    db_url = f"sqlite:///{tmp.name}/bench.db" if args.db == "sqlite" else args.db
    migrate.upgrade(db_url)
    db = Database(db_url)
    clock = SystemClock()
    config = EnforcementSettings(bulk_max=max(args.accounts, 1), concurrency=args.concurrency)
    notifier = CountingNotifier()
    gateway = HttpPlatformGateway(url, "enf-test-token", connections=args.concurrency)
    jobs = JobRunner(db, clock)  # what Slack is told (card, summary) runs as jobs, as in production
    enforcer = Enforcer(
        db,
        clock,
        config,
        notifier,  # type: ignore[arg-type]
        NoLookups(gateway),
        EnforcerOptions(),
        jobs=jobs,
    )

    draft = Draft(
        action="suspend",
        requester="U0ANA0001",
        file_ids=[f"acct_{n}" for n in range(args.accounts)],
        reason_code="spam",
        source="cli",
    )
    checked = check_draft(draft, config)
    assert checked.ok, checked.errors
    rss_before = max_rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    request_id = enforcer.create(checked)
    created = time.perf_counter()
    jobs.run_until_idle()  # the approval card is posted (and the pre-check told nothing)
    enforcer.approve(request_id, "U0ADM0001", is_admin=True)
    approved = time.perf_counter()
    calls = enforcer.run_until_idle()
    finished = time.perf_counter()
    jobs.run_until_idle()  # the summary (queued with the last results)
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()

    view = enforcer.view(request_id)
    assert view is not None
    parent.send("done")
    server_calls = parent.recv()
    server.join(10)
    gateway.close()
    db.dispose()
    tmp.cleanup()

    execute = finished - approved
    ideal = args.concurrency / args.latency
    throughput = calls / execute
    setup = f"concurrency {args.concurrency}, latency {args.latency * 1000:.0f} ms"
    print(f"accounts            {args.accounts:,} on {args.db} ({setup})")
    print(f"request created     {created - started:.2f} s (request + {args.accounts:,} action rows + audit)")
    print(f"executed            {execute:.2f} s for {calls:,} calls (API saw {server_calls:,})")
    print(
        f"throughput          {throughput:,.0f} calls/s; ideal {ideal:,.0f}/s; ratio {throughput / ideal:.2f}"
    )
    print(f"outcomes            {view.status}: {dict(sorted(view.counts.items()))}")
    print(f"progress updates    {notifier.progress_updates}, summaries {notifier.summaries}")
    print(f"peak memory (RSS)   {max_rss_mb():.0f} MiB (before the request: {rss_before:.0f} MiB)")
    if heap_peak is not None:
        print(f"peak Python heap    {heap_peak:.1f} MiB (tracemalloc)")


if __name__ == "__main__":
    main()

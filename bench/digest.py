"""Benchmark (not a test): the weekly digest over a big store.

    python bench/digest.py [--cases 100000] [--other 1000000] [--db sqlite|postgresql://…] [--tracemalloc]

With a PostgreSQL URL the benchmark creates its own database next to the one named (as
the tests do) and drops it afterwards; the named database is only used to connect.

Loads ``--cases`` cases into the digest week (2026-W47) and as many again over the seven
weeks before it (week-over-week figures and the 8-week charts read them), plus ``--other``
rows of the other data the digest reads: 60% rule hits, 40% enforcement actions (in
requests of 1,000 accounts, a tenth of them reinstatements linked to the suspension they
reverse). Signals are not on this branch and the digest reads them only through the
investigation/anomaly protocols, so they stand in as rule hits and actions here.

Then computes the digest (every figure, the chart series) three times and reports the
best and worst time, and renders the two charts; memory is the max RSS of this process
before and after (and the Python heap peak with --tracemalloc).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.charts import MatplotlibChartRenderer
from store import migrate
from store.cases import Case
from store.db import Database
from store.enforcement import EnforcementAction, EnforcementRequest
from store.playbooks import RuleHit
from tests.conftest import PgServer
from workflows.clock import FixedClock
from workflows.config import parse_config
from workflows.jobs import JobRunner
from workflows.periods import parse_period
from workflows.reports import Reports

START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of 2026-W47 (config in UTC)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CATEGORIES = [
    "suspension_request",
    "reinstatement_request",
    "cx_escalation",
    "host_report",
    "user_report",
    "other",
]
SLA = {"P1": 1, "P2": 4, "P3": 24, "P4": 72}
CHUNK = 20_000


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(db: Database, cases: int, other: int) -> None:
    rng = random.Random(7)
    week = timedelta(days=7).total_seconds()

    def case_rows(n: int, first: datetime, span_weeks: int, offset: int) -> list[dict]:
        rows = []
        for i in range(n):
            created = first + timedelta(seconds=rng.random() * week * span_weeks)
            priority = rng.choice(list(SLA))
            claimed = created + timedelta(minutes=rng.expovariate(1 / 30)) if rng.random() < 0.9 else None
            resolved = (
                claimed + timedelta(hours=rng.expovariate(1 / SLA[priority]))
                if claimed and rng.random() < 0.85
                else None
            )
            rows.append(
                {
                    "channel": "C0ESC0001",
                    "ts": f"{offset + i}.0001",
                    "source": "channel" if rng.random() < 0.9 else "shortcut",
                    "author": "U0CX00001",
                    "author_is_bot": False,
                    "text": "x",
                    "category": rng.choice(CATEGORIES),
                    "priority": priority,
                    "status": "resolved" if resolved else "claimed" if claimed else "new",
                    "escalations": 0,
                    "created_at": created,
                    "updated_at": created,
                    "sla_due_at": created + timedelta(hours=SLA[priority]),
                    "claimed_by": "U0ANA0001" if claimed else None,
                    "claimed_at": claimed,
                    "resolved_at": resolved,
                    "source_deleted": False,
                    "labels": [],
                    "recommendations": [],
                }
            )
        return rows

    with db.transaction() as s:
        for start in range(0, cases, CHUNK):
            n = min(CHUNK, cases - start)
            s.execute(Case.__table__.insert(), case_rows(n, START, 1, start))
            s.execute(Case.__table__.insert(), case_rows(n, START - timedelta(days=49), 7, cases + start))
    hits = int(other * 0.6)
    first = START - timedelta(days=56)
    with db.transaction() as s:
        for start in range(0, hits, CHUNK):
            s.execute(
                RuleHit.__table__.insert(),
                [
                    {
                        "rule_id": f"rule_{rng.randrange(40)}",
                        "playbook_version": "v1",
                        "trigger": "case.created",
                        "subject_type": "case",
                        "subject_id": str(i),
                        "mode": "live" if rng.random() < 0.8 else "shadow",
                        "actions": [],
                        "why": {},
                        "at": first + timedelta(seconds=rng.random() * week * 9),
                    }
                    for i in range(start, min(hits, start + CHUNK))
                ],
            )
    actions = other - hits
    per_request = 1000
    suspended: list[int] = []
    with db.transaction() as s:
        for r in range(actions // per_request):
            action = "reinstate" if r % 10 == 9 else "suspend"
            at = first + timedelta(seconds=rng.random() * week * 9)
            request = EnforcementRequest(
                action=action, status="completed", requester="U0ANA0001", reason_code="spam", note="",
                evidence="", account_count=per_request, duplicates_removed=0, approvals_needed=1,
                approvals_count=1, decided_by="U0LEAD001", decided_at=at, manual=False, source="cli", round=1,
                created_at=at, updated_at=at,
            )  # fmt: skip
            s.add(request)
            s.flush()
            rows = []
            for i in range(per_request):
                account = f"acct_{r}_{i}"
                reverses = rng.choice(suspended) if action == "reinstate" and suspended else None
                rows.append(
                    {
                        "request_id": request.id,
                        "account_id": account,
                        "action": action,
                        "idempotency_key": f"vigil:{request.id}:{i}:{action}",
                        "status": "done" if rng.random() < 0.97 else "failed",
                        "reverses_action_id": reverses,
                        "attempts": 1,
                        "created_at": at,
                        "updated_at": at,
                        "finished_at": at + timedelta(minutes=5),
                    }
                )
            s.execute(EnforcementAction.__table__.insert(), rows)
            if action == "suspend":
                first_id = (
                    s.query(EnforcementAction.id).filter_by(request_id=request.id).order_by("id").first()
                )
                suspended.extend(range(first_id[0], first_id[0] + per_request, 97))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--other", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    pg = None if args.db == "sqlite" else PgServer(args.db)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db" if pg is None else pg.create("vigil_bench")
        try:
            run(url, args)
        finally:
            if pg is not None:
                pg.drop(url)
                pg.admin.dispose()


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    migrate.upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    load(db, args.cases, args.other)
    loaded = time.perf_counter() - started
    print(f"loaded {args.cases * 2:,} cases and {args.other:,} other rows in {loaded:.1f} s")
    config = parse_config(
        {
            "channels": {
                "escalations": ["C0ESC0001"],
                "approvals": "C0APR0001",
                "digest": "C0DIG0001",
                "alerts": "C0ALR0001",
                "engineering": "C0ENG0001",
            }
        }
    )
    clock = FixedClock(NOW)
    # Nothing is posted here: the runner only has to exist (nobody starts it).
    reports = Reports(db, clock, config, jobs=JobRunner(db, clock), renderer=MatplotlibChartRenderer())
    period = parse_period("2026-W47", NOW, config.tz)
    before = rss_mib()
    if args.tracemalloc:
        tracemalloc.start()
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        report = reports.digest(period)
        timings.append(time.perf_counter() - started)
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    after = rss_mib()
    started = time.perf_counter()
    charts = reports.charts(report)
    chart_seconds = time.perf_counter() - started
    print(
        f"digest for {period.name}: {report.volume.total.current:,} cases this week, "
        f"SLA {report.sla_overall.met:,}/{report.sla_overall.due:,}, "
        f"{report.enforcement.week.suspensions:,} suspensions, {report.rules.total:,} rule hits"
    )
    sizes = ", ".join(f"{c.name} {len(c.png) // 1024} KiB" for c in charts)
    print(
        f"computed in {min(timings):.2f} to {max(timings):.2f} s (3 runs); "
        f"charts in {chart_seconds:.2f} s ({sizes})"
    )
    print(f"max RSS {before:.0f} → {after:.0f} MiB" + (f"; Python heap peak {heap:.1f} MiB" if heap else ""))
    db.dispose()
    return {"fastest": min(timings), "slowest": max(timings), "charts": chart_seconds, "load": loaded}


def figures(quick: bool = False) -> list[dict[str, Any]]:
    cases, other = (2_000, 20_000) if quick else (100_000, 1_000_000)
    args = argparse.Namespace(cases=cases, other=other, db="sqlite", tracemalloc=False)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(f"sqlite:///{tmp}/bench.db", args)
    return [
        {
            "measure": f"weekly digest over {cases:,} cases in the week (+{cases:,} before) "
            f"and {other:,} rule hits and actions, SQLite",
            "baseline": f"loading those rows: {result['load']:.1f} s",
            "now": f"{result['fastest']:.2f} to {result['slowest']:.2f} s (3 runs)",
            "target": "< 5 s",
            "note": f"charts rendered in {result['charts']:.2f} s, after the digest is posted",
        }
    ]


if __name__ == "__main__":
    main()

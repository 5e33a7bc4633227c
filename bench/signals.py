"""Signals benchmarks: HTTP ingest, the investigation view, anomaly detection (SQLite).

    python -m bench.signals [--ingest 200000] [--account 100000] [--detect 10000000] [--out bench/out]

Every figure is reported beside a plain bulk insert of the same rows (sqlite3 executemany
into a bare table, no indexes, one transaction) timed in the same run, so the ratios mean
something on any machine. Results go to stdout; copy them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.app import create_bolt_app
from bot.fakes.slack import FakeSlack
from bot.http import create_http_app
from bot.runtime import build_context
from bot.slack_client import make_client
from commands.blocks.investigations import investigation_blocks
from store import migrate
from store.db import Database
from tests.harness.server import ServerThread
from tests.harness.world import config_data
from workflows.clock import FixedClock
from workflows.config import Settings, parse_config
from workflows.investigations import InvestigationView
from workflows.jobs import JobRunner

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TYPES = ["login", "model_score", "send_velocity", "undeliverable", "payment_decline", "report"]
COUNTRIES = ["US", "DE", "FR", "BR", "IN", "NG", "GB", "ES", "IT", "JP"]
REASONS = ["spam", "scam", "harassment", "off_platform_payment"]


def make_row(n: int, account: str, at: datetime, rng: random.Random) -> dict[str, Any]:
    kind = TYPES[n % 5] if n % 50 else "report"  # 2% reports
    attributes: dict[str, Any] = {"country": COUNTRIES[n % len(COUNTRIES)], "ip": f"10.0.{n % 256}.{n % 199}"}
    if kind == "report":
        attributes.update(
            reason=REASONS[n % len(REASONS)], reporter=f"guest_{n % 977}", text="they asked me to pay"
        )
    if n % 7 == 0:
        attributes["device_id"] = f"dev_{rng.randrange(50_000)}"
    return {
        "id": f"b-{n}",
        "type": kind,
        "account_id": account,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "value": float(n % 13),
        "attributes": attributes,
    }


def plain_insert(rows: list[tuple[Any, ...]], path: Path) -> float:
    """The reference: the same rows, a bare table, one executemany, one commit."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE signals (id INTEGER PRIMARY KEY, client_id TEXT, type TEXT, account_id TEXT, "
        "occurred_at TEXT, value REAL, attributes TEXT, received_at TEXT)"
    )
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO signals (client_id, type, account_id, occurred_at, value, attributes, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def as_tuple(row: dict[str, Any]) -> tuple[Any, ...]:
    at = row["occurred_at"].replace("T", " ").replace("Z", ".000000")
    return (row["id"], row["type"], row["account_id"], at, row["value"], json.dumps(row["attributes"]), at)


def fresh_db(folder: Path, name: str) -> Database:
    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    return Database(url)


def bench_ingest(folder: Path, total: int) -> dict[str, Any]:
    rng = random.Random(7)
    rows = [
        make_row(n, f"acct_{rng.randrange(20_000)}", NOW - timedelta(seconds=rng.randrange(6 * 3600)), rng)
        for n in range(total)
    ]
    bodies = [json.dumps({"signals": rows[i : i + 10_000]}).encode() for i in range(0, total, 10_000)]
    plain = plain_insert([as_tuple(r) for r in rows], folder / "plain-ingest.db")

    fake = FakeSlack().start()
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-bench"),
        slack_signing_secret=SecretStr("bench"),
        slack_api_url=fake.api_url,
        vigil_signals_token=SecretStr("bench-token"),
    )
    db = fresh_db(folder, "ingest.db")
    client = make_client("xoxb-bench", fake.api_url)
    ctx, client = build_context(
        settings, parse_config(config_data()), db=db, clock=FixedClock(NOW), client=client
    )
    server = ServerThread(create_http_app(ctx, create_bolt_app(ctx, client))).start()
    http = httpx.Client(timeout=120, headers={"Authorization": "Bearer bench-token"})
    started = time.perf_counter()
    for body in bodies:
        response = http.post(f"{server.url}/api/v1/signals", content=body)
        assert response.status_code == 200, response.text
    elapsed = time.perf_counter() - started
    again = time.perf_counter()
    duplicate = http.post(f"{server.url}/api/v1/signals", content=bodies[0]).json()
    retried = time.perf_counter() - again
    assert duplicate["duplicates"] == min(total, 10_000)
    http.close()
    server.stop()
    fake.stop()
    return {
        "signals": total,
        "http_seconds": round(elapsed, 2),
        "http_per_second": round(total / elapsed),
        "plain_seconds": round(plain, 2),
        "plain_per_second": round(total / plain),
        "ratio_plain_over_http": round(elapsed / plain, 2),
        "retried_batch_seconds": round(retried, 3),
    }


def bench_investigation(folder: Path, account_signals: int, others: int) -> dict[str, Any]:
    from bot.runtime import signal_services

    rng = random.Random(11)
    rows = [
        make_row(n, "acct_target", NOW - timedelta(seconds=rng.randrange(30 * 86400)), rng)
        for n in range(account_signals)
    ]
    rows += [
        make_row(
            account_signals + n,
            f"acct_{rng.randrange(20_000)}",
            NOW - timedelta(seconds=rng.randrange(7 * 86400)),
            rng,
        )
        for n in range(others)
    ]
    plain = plain_insert([as_tuple(r) for r in rows[:account_signals]], folder / "plain-inv.db")
    db = fresh_db(folder, "investigation.db")
    config = parse_config(config_data())
    clock = FixedClock(NOW)
    signals, _anomalies, investigations = signal_services(
        Settings(), config, db, clock, jobs=JobRunner(db, clock)
    )
    for start in range(0, len(rows), 10_000):
        signals.ingest(rows[start : start + 10_000])
    cold = time.perf_counter()
    investigations.dossier("acct_target")
    cold = time.perf_counter() - cold
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        dossier = investigations.dossier("acct_target")
        view = InvestigationView(
            1, "INV-1", "acct_target", "open", "U0", NOW, None, None, None, None, None, None, None, None
        )
        investigation_blocks(view, dossier)
        samples.append(time.perf_counter() - started)
    warm = sorted(samples)[len(samples) // 2]
    return {
        "account_signals": account_signals,
        "other_signals": others,
        "view_seconds_warm": round(warm, 3),
        "view_seconds_cold_population": round(cold, 3),
        "plain_insert_of_account_rows_seconds": round(plain, 3),
        "ratio_view_over_plain": round(warm / plain, 2),
    }


def bench_detection(folder: Path, total: int) -> dict[str, Any]:
    """``total`` signals over five weeks, written straight to the tables (rollups as ingest
    keeps them), then one detection run. A spike is injected in the hour judged."""
    from bot.runtime import signal_services

    db = fresh_db(folder, "detect.db")
    rng = random.Random(3)
    hours = 5 * 7 * 24
    per_hour = total // hours
    start = NOW - timedelta(hours=hours)
    rollups: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    plain_path = folder / "plain-detect.db"
    plain_conn = sqlite3.connect(plain_path)
    plain_conn.execute("PRAGMA synchronous=NORMAL")
    plain_conn.execute(
        "CREATE TABLE signals (id INTEGER PRIMARY KEY, client_id TEXT, type TEXT, account_id TEXT, "
        "occurred_at TEXT, value REAL, attributes TEXT, received_at TEXT)"
    )
    plain_seconds = 0.0
    loaded = 0
    for hour_index in range(hours):
        bucket = start + timedelta(hours=hour_index)
        count = per_hour * (3 if hour_index == hours - 1 else 1)  # the spike, in the last full hour
        batch = []
        for n in range(count):
            kind = TYPES[n % 6]
            country = COUNTRIES[rng.randrange(len(COUNTRIES))]
            at = (bucket + timedelta(seconds=n % 3600)).strftime("%Y-%m-%d %H:%M:%S.000000")
            batch.append(
                (None, kind, f"acct_{rng.randrange(200_000)}", at, 1.0, f'{{"country":"{country}"}}', at)
            )
            key = bucket.strftime("%Y-%m-%d %H:%M:%S.000000")
            for dims in (("", ""), ("country", country)):
                total_ = rollups[(key, kind, *dims)]
                total_[0] += 1
                total_[1] += 1.0
        sql = (
            "INSERT INTO signals (client_id, type, account_id, occurred_at, value, attributes, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        conn.executemany(sql, batch)
        started = time.perf_counter()
        plain_conn.executemany(sql, batch)
        plain_seconds += time.perf_counter() - started
        loaded += len(batch)
    conn.executemany(
        "INSERT INTO signal_rollups (bucket, signal_type, dimension, dim_value, count, value_sum) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(b, t, d, v, int(c), s) for (b, t, d, v), (c, s) in rollups.items()],
    )
    conn.commit()
    started = time.perf_counter()
    plain_conn.commit()
    plain_seconds += time.perf_counter() - started
    conn.close()
    plain_conn.close()
    plain_path.unlink()
    config = parse_config(config_data())
    clock = FixedClock(NOW)
    _signals, anomalies, _inv = signal_services(Settings(), config, db, clock, jobs=JobRunner(db, clock))
    started = time.perf_counter()
    report = anomalies.detect()
    elapsed = time.perf_counter() - started
    return {
        "signals": loaded,
        "rollup_rows": len(rollups),
        "detect_seconds": round(elapsed, 2),
        "anomalies_found": len(report.found),
        "plain_insert_seconds": round(plain_seconds, 1),
        "ratio_detect_over_plain": round(elapsed / plain_seconds, 4),
    }


def figures(quick: bool = False) -> list[dict[str, Any]]:
    ingest, account, others, detect = (
        (20_000, 5_000, 10_000, 100_000) if quick else (200_000, 100_000, 200_000, 10_000_000)
    )
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp)
        i = bench_ingest(folder, ingest)
        v = bench_investigation(folder, account, others)
        d = bench_detection(folder, detect)
    return [
        {
            "measure": f"signal ingest over `POST /api/v1/signals`, {ingest:,} signals, SQLite",
            "baseline": f"plain `executemany` into a bare table: {i['plain_per_second']:,}/s",
            "now": f"{i['ratio_plain_over_http']:.1f}x the time ({i['http_per_second']:,}/s)",
            "target": "\u2264 3x the time",
            "note": f"a retried batch of 10,000 duplicates: {i['retried_batch_seconds']:.2f} s",
        },
        {
            "measure": f"investigation view of an account with {account:,} signals, SQLite",
            "baseline": f"plain insert of its rows: {v['plain_insert_of_account_rows_seconds']:.2f} s",
            "now": f"{v['view_seconds_warm']:.3f} s warm, {v['view_seconds_cold_population']:.2f} s cold",
            "target": "< 1 s",
            "note": f"{v['ratio_view_over_plain']:.2f}x the plain insert (warm)",
        },
        {
            "measure": f"anomaly detection of one hour over {d['signals']:,} signals, SQLite",
            "baseline": f"plain insert of the rows: {d['plain_insert_seconds']:.1f} s",
            "now": f"{d['detect_seconds']:.2f} s",
            "target": "< 30 s",
            "note": f"{d['anomalies_found']} anomalies from {d['rollup_rows']:,} rollup rows",
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest", type=int, default=200_000)
    parser.add_argument("--account", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--detect", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["ingest", "investigation", "detect"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp)
        if args.only in (None, "ingest"):
            print("ingest", json.dumps(bench_ingest(folder, args.ingest)), flush=True)
        if args.only in (None, "investigation"):
            print(
                "investigation",
                json.dumps(bench_investigation(folder, args.account, args.others)),
                flush=True,
            )
        if args.only in (None, "detect"):
            print("detect", json.dumps(bench_detection(folder, args.detect)), flush=True)


if __name__ == "__main__":
    main()

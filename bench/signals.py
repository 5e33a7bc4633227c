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
import uuid
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
from workflows.signals.retention import SignalRetention

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


class PlainReference:
    """The reference, timed batch by batch between the endpoint's batches so that both see the
    same load on a shared machine: the same rows into a bare table (no indexes), one commit
    per batch. SQLite: ``executemany``; PostgreSQL: ``COPY``."""

    def __init__(self, folder: Path, pg_url: str | None) -> None:
        self.pg_url = pg_url
        ddl = (
            "CREATE TABLE plain_signals (id {pk}, client_id TEXT, type TEXT, account_id TEXT, "
            "occurred_at {ts}, value FLOAT, attributes {js}, received_at {ts})"
        )
        # The floor the schema itself sets: the same rows into a table with signals' indexes,
        # and their ids into a unique table, still below any Vigil code.
        indexed = [
            ddl.replace("plain_signals", "indexed_signals"),
            "CREATE INDEX ix_indexed_account ON indexed_signals (account_id, occurred_at)",
            "CREATE INDEX ix_indexed_type ON indexed_signals (type, occurred_at, account_id)",
            "CREATE TABLE indexed_ids (client_id TEXT PRIMARY KEY, occurred_at {ts})",
        ]
        if pg_url:
            import psycopg

            self.pg = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
            for statement in [ddl, *indexed]:
                self.pg.execute(statement.format(pk="SERIAL PRIMARY KEY", ts="TIMESTAMPTZ", js="JSONB"))
            self.pg.commit()
        else:
            self.lite = sqlite3.connect(folder / "plain-ingest.db")
            self.lite.execute("PRAGMA journal_mode=WAL")
            self.lite.execute("PRAGMA synchronous=NORMAL")
            for statement in [ddl, *indexed]:
                self.lite.execute(statement.format(pk="INTEGER PRIMARY KEY", ts="TEXT", js="TEXT"))
        self.seconds = 0.0
        self.indexed_seconds = 0.0

    def insert(self, rows: list[dict[str, Any]]) -> None:
        columns = "client_id, type, account_id, occurred_at, value, attributes, received_at"
        if self.pg_url:
            values = [
                (
                    r["id"],
                    r["type"],
                    r["account_id"],
                    r["occurred_at"],
                    r["value"],
                    json.dumps(r["attributes"]),
                )
                for r in rows
            ]
            for table in ("plain_signals", "indexed_signals"):
                started = time.perf_counter()
                with self.pg.cursor() as cur:
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for client_id, kind, account, at, value, attributes in values:
                            copy.write_row((client_id, kind, account, at, value, attributes, at))
                    if table == "indexed_signals":
                        with cur.copy("COPY indexed_ids (client_id, occurred_at) FROM STDIN") as copy:
                            for value_row in values:
                                copy.write_row((value_row[0], value_row[3]))
                self.pg.commit()
                self._add(table, time.perf_counter() - started)
        else:
            tuples = [as_tuple(r) for r in rows]
            for table in ("plain_signals", "indexed_signals"):
                started = time.perf_counter()
                self.lite.executemany(f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", tuples)
                if table == "indexed_signals":
                    self.lite.executemany(
                        "INSERT INTO indexed_ids (client_id, occurred_at) VALUES (?, ?)",
                        [(t[0], t[3]) for t in tuples],
                    )
                self.lite.commit()
                self._add(table, time.perf_counter() - started)

    def _add(self, table: str, seconds: float) -> None:
        if table == "plain_signals":
            self.seconds += seconds
        else:
            self.indexed_seconds += seconds

    def close(self) -> None:
        if self.pg_url:
            self.pg.close()
        else:
            self.lite.close()


def ingest_rows(total: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        make_row(n, f"acct_{rng.randrange(20_000)}", NOW - timedelta(seconds=rng.randrange(6 * 3600)), rng)
        for n in range(total)
    ]


def bench_ingest(folder: Path, total: int, pg_admin: str | None = None) -> dict[str, Any]:
    """SQLite (a file in ``folder``), or PostgreSQL when ``pg_admin`` is given: a database of
    the run's own is created next to it and dropped after."""
    rows = ingest_rows(total)
    batches = [rows[i : i + 10_000] for i in range(0, total, 10_000)]
    pg = PgDatabase(pg_admin) if pg_admin else None
    try:
        if pg:
            migrate.upgrade(pg.url)
            db = Database(pg.url)
            # The month the rows fall in gets its partition, as the nightly job makes it ahead.
            SignalRetention(db, FixedClock(NOW), parse_config(config_data())).ensure_partitions(ahead=0)
        else:
            db = fresh_db(folder, "ingest.db")
        reference = PlainReference(folder, pg.url if pg else None)
        measured = _ingest_over_http(db, batches, total, reference)
        reference.close()
        plain, indexed = reference.seconds, reference.indexed_seconds
        db.dispose()
    finally:
        if pg:
            pg.drop()
    return {
        "store": "postgresql" if pg else "sqlite",
        "signals": total,
        **measured,
        "plain_seconds": round(plain, 2),
        "plain_per_second": round(total / plain),
        "ratio_plain_over_http": round(measured["http_seconds"] / plain, 2),
        "indexed_seconds": round(indexed, 2),
        "ratio_indexed_over_http": round(measured["http_seconds"] / indexed, 2),
    }


class PgDatabase:
    """A throwaway PostgreSQL database (never the shared ones): created, then dropped."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine, text

        self._text = text
        self.admin = create_engine(migrate.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
        self.name = f"vigil_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = migrate.normalize_url(admin_url).rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(self._text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _ingest_over_http(
    db: Database, batches: list[list[dict[str, Any]]], total: int, reference: PlainReference
) -> dict[str, Any]:
    bodies = [json.dumps({"signals": batch}).encode() for batch in batches]
    fake = FakeSlack().start()
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-bench"),
        slack_signing_secret=SecretStr("bench"),
        slack_api_url=fake.api_url,
        vigil_signals_token=SecretStr("bench-token"),
    )
    client = make_client("xoxb-bench", fake.api_url)
    ctx, client = build_context(
        settings, parse_config(config_data()), db=db, clock=FixedClock(NOW), client=client
    )
    server = ServerThread(create_http_app(ctx, create_bolt_app(ctx, client))).start()
    http = httpx.Client(timeout=120, headers={"Authorization": "Bearer bench-token"})
    elapsed = 0.0
    for batch, body in zip(batches, bodies, strict=True):
        reference.insert(batch)
        started = time.perf_counter()
        response = http.post(f"{server.url}/api/v1/signals", content=body)
        elapsed += time.perf_counter() - started
        assert response.status_code == 200, response.text
    again = time.perf_counter()
    duplicate = http.post(f"{server.url}/api/v1/signals", content=bodies[0]).json()
    retried = time.perf_counter() - again
    assert duplicate["duplicates"] == min(total, 10_000)
    http.close()
    server.stop()
    fake.stop()
    return {
        "http_seconds": round(elapsed, 2),
        "http_per_second": round(total / elapsed),
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


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def figures(quick: bool = False, pg: str | None = PG_ADMIN) -> list[dict[str, Any]]:
    """For ``python -m bench``: ingest over HTTP on each store beside its plain bulk insert,
    the investigation view and (not quick) detection over 10M signals."""
    total = 20_000 if quick else 200_000
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp)
        runs = [bench_ingest(folder, total)]
        if pg:
            try:
                runs.append(bench_ingest(folder, total, pg))
            except Exception as exc:  # no server here: say so rather than fail the whole bench
                out.append(
                    {
                        "measure": "signal ingest over POST /api/v1/signals, PostgreSQL",
                        "baseline": "COPY into a bare table",
                        "now": "not measured",
                        "target": "<= 3x the time",
                        "note": f"PostgreSQL unreachable: {type(exc).__name__}",
                    }
                )
        for run in runs:
            sqlite = run["store"] == "sqlite"
            name = "SQLite" if sqlite else "PostgreSQL"
            out.append(
                {
                    "measure": f"signal ingest over POST /api/v1/signals, {name}",
                    "baseline": f"{'executemany' if sqlite else 'COPY'} into a bare table: "
                    f"{run['plain_per_second']:,}/s",
                    "now": f"{run['ratio_plain_over_http']}x the time ({run['http_per_second']:,}/s)",
                    "target": "<= 3x the time",
                    "note": f"{total:,} signals in batches of 10,000; the same rows into a table "
                    f"with signals' indexes plus the id table (no Vigil code): {run['indexed_seconds']} s, "
                    f"the endpoint {run['ratio_indexed_over_http']}x that; a retried batch "
                    f"{run['retried_batch_seconds']} s",
                }
            )
        inv = bench_investigation(folder, 10_000 if quick else 100_000, 20_000 if quick else 200_000)
        out.append(
            {
                "measure": f"investigation view, account with {inv['account_signals']:,} signals (s)",
                "baseline": f"plain insert of its rows: {inv['plain_insert_of_account_rows_seconds']} s",
                "now": f"{inv['view_seconds_warm']} warm, {inv['view_seconds_cold_population']} cold",
                "target": "< 1 s",
                "note": "SQLite",
            }
        )
        if not quick:
            det = bench_detection(folder, 10_000_000)
            out.append(
                {
                    "measure": f"anomaly detection of one hour over {det['signals']:,} signals (s)",
                    "baseline": f"plain insert of the rows: {det['plain_insert_seconds']} s",
                    "now": f"{det['detect_seconds']}",
                    "target": "< 30 s",
                    "note": f"SQLite; {det['anomalies_found']} anomalies stored",
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingest", type=int, default=200_000)
    parser.add_argument("--account", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--detect", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["ingest", "investigation", "detect"])
    parser.add_argument(
        "--pg", help="also ingest into PostgreSQL: an admin URL (a database of its own is made)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        folder = Path(tmp)
        if args.only in (None, "ingest"):
            print("ingest", json.dumps(bench_ingest(folder, args.ingest)), flush=True)
            if args.pg:
                print("ingest", json.dumps(bench_ingest(folder, args.ingest, args.pg)), flush=True)
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

"""Signals at scale: a store holding millions of signals, on SQLite and on PostgreSQL.

    python -m bench.scale [--signals 10000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                          [--only sqlite|postgresql]

For each store: bulk-load the signals into the real, migrated schema (executemany on SQLite,
``COPY`` on PostgreSQL, not through HTTP; every row with its client id in ``signal_ids``, the
hourly rollups as ingest keeps them, PostgreSQL's monthly partitions made first), in two
steps: a tenth of them, then the rest. After each step it measures

- the ingest rate: 100,000 new signals through the ``Signals`` service (``ingest_body``, the
  HTTP endpoint's whole job without the socket) in batches of 10,000;
- anomaly detection of the last hour (``Anomalies.detect``: rollups, baseline weeks, top
  accounts of each anomaly from the signals table);
- the disk used (the signals table, its indexes and ``signal_ids``) per million signals.

100 million signals would take hours to load here, so the run measures N/10 and N and
projects to 100M from the change between them (each step is x10: B-tree depth grows with
the logarithm of the rows, so a x10 step is what repeats); the projection says so. The
PostgreSQL database is the run's own (created and dropped), next to the server's others.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bot.services import signal_services
from store import migrate
from store import signal_partitions as partitions
from store.db import Database
from tests.harness.world import config_data
from workflows.clock import FixedClock
from workflows.config import Settings, parse_config
from workflows.jobs import JobRunner

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TYPES = ["login", "model_score", "send_velocity", "undeliverable", "payment_decline", "report"]
COUNTRIES = ["US", "DE", "FR", "BR", "IN", "NG", "GB", "ES", "IT", "JP"]
HOURS = 5 * 7 * 24  # five weeks: the baseline detection reads
ACCOUNTS = 1_000_000
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CHUNK = 100_000
INGEST_SIGNALS = 100_000


def client_id(n: int) -> str:
    # Spread like real (random) ids, so the id index is written all over, not appended to.
    return f"{(n * 2654435761) % 2**32:08x}-{n}"


def generate(first: int, count: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
    """``count`` signals numbered from ``first``, spread evenly over the five weeks before
    NOW, in chunks: (client id, type, account, time, value, attributes JSON, country)."""
    rng = random.Random(seed)
    start = NOW - timedelta(hours=HOURS)
    span = HOURS * 3600
    chunk: list[tuple[Any, ...]] = []
    for n in range(first, first + count):
        at = start + timedelta(seconds=rng.randrange(span))
        country = COUNTRIES[rng.randrange(10)]
        chunk.append(
            (
                client_id(n),
                TYPES[n % 6],
                f"acct_{rng.randrange(ACCOUNTS)}",
                at,
                float(n % 13),
                f'{{"country":"{country}","ip":"10.{n % 251}.{n % 13}.{n % 7}"}}',
                country,
            )
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rollups(chunk: list[tuple[Any, ...]], into: dict[tuple[datetime, str, str, str], list[float]]) -> None:
    for _cid, kind, _acct, at, value, _attrs, country in chunk:
        hour = at.replace(minute=0, second=0, microsecond=0)
        for key in ((hour, kind, "", ""), (hour, kind, "country", country)):
            total = into[key]
            total[0] += 1
            total[1] += value


def _sqlite_time(at: datetime) -> str:
    return at.replace(tzinfo=None).isoformat(" ", "microseconds")


class SqliteStore:
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "scale.db"
        self.url = f"sqlite:///{self.path}"
        migrate.upgrade(self.url)

    def load(self, first: int, count: int, seed: int) -> float:
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        rollups: dict[tuple[datetime, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
        started = time.perf_counter()
        for chunk in generate(first, count, seed):
            rows = [(c, k, a, _sqlite_time(t), v, j, _sqlite_time(t)) for c, k, a, t, v, j, _ in chunk]
            conn.executemany(
                "INSERT INTO signals (client_id, type, account_id, occurred_at, value, attributes, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT INTO signal_ids (client_id, occurred_at) VALUES (?, ?)", [(r[0], r[3]) for r in rows]
            )
            _rollups(chunk, rollups)
            conn.commit()
        conn.executemany(
            "INSERT INTO signal_rollups (bucket, signal_type, dimension, dim_value, count, value_sum) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bucket, signal_type, dimension, dim_value) DO UPDATE "
            "SET count = count + excluded.count, value_sum = value_sum + excluded.value_sum",
            [(_sqlite_time(b), t, d, v, int(c), s) for (b, t, d, v), (c, s) in rollups.items()],
        )
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed

    def disk_bytes(self) -> int:
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            # dbstat, where SQLite was built with it: the signals rows, their indexes and ids.
            size = conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('signals', 'signal_ids', "
                "'ix_signals_account_id_occurred_at', 'ix_signals_type_occurred_at')"
            ).fetchone()[0]
        except sqlite3.OperationalError:
            size = self.path.stat().st_size  # the whole file; the other tables are tiny here
        conn.close()
        return int(size)

    def close(self) -> None:
        pass


class PostgresStore:
    name = "PostgreSQL"

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(migrate.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
        self.dbname = f"vigil_scale_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.dbname}"'))
        self.url = migrate.normalize_url(admin_url).rsplit("/", 1)[0] + f"/{self.dbname}"
        migrate.upgrade(self.url)
        db = Database(self.url)
        with db.transaction() as session:  # the months the data covers, as the nightly job would
            month = partitions.month_start(NOW - timedelta(hours=HOURS))
            while month <= NOW:
                partitions.create_partition(session, month)
                month = partitions.month_start(month, 1)
        db.dispose()

    def load(self, first: int, count: int, seed: int) -> float:
        import psycopg

        rollups: dict[tuple[datetime, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
        dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
        started = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            for chunk in generate(first, count, seed):
                with conn.cursor() as cur:
                    with cur.copy(
                        "COPY signals (client_id, type, account_id, occurred_at, value, attributes, "
                        "received_at) FROM STDIN"
                    ) as copy:
                        for c, k, a, t, v, j, _ in chunk:
                            copy.write_row((c, k, a, t, v, j, t))
                    with cur.copy("COPY signal_ids (client_id, occurred_at) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row((row[0], row[3]))
                _rollups(chunk, rollups)
                conn.commit()
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO signal_rollups (bucket, signal_type, dimension, dim_value, count, "
                    "value_sum) VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (bucket, signal_type, dimension, dim_value) "
                    "DO UPDATE SET count = signal_rollups.count + excluded.count, "
                    "value_sum = signal_rollups.value_sum + excluded.value_sum",
                    [(b, t, d, v, int(c), s) for (b, t, d, v), (c, s) in rollups.items()],
                )
                cur.execute("ANALYZE signals")
                cur.execute("ANALYZE signal_ids")
            conn.commit()
        return time.perf_counter() - started

    def disk_bytes(self) -> int:
        engine = create_engine(self.url)
        with engine.connect() as conn:
            size = conn.execute(
                text(
                    "SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('signals'))"
                    " + pg_total_relation_size('signal_ids')"
                )
            ).scalar_one()
        engine.dispose()
        return int(size)

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
        self.admin.dispose()


def _ingest_bodies(first: int, at: datetime) -> list[bytes]:
    rng = random.Random(first)
    bodies = []
    for start in range(0, INGEST_SIGNALS, 10_000):
        rows = [
            {
                "id": client_id(first + start + n),
                "type": TYPES[n % 6],
                "account_id": f"acct_{rng.randrange(ACCOUNTS)}",
                "occurred_at": (at - timedelta(seconds=1 + rng.randrange(3599))).isoformat(),
                "value": float(n % 13),
                "attributes": {"country": COUNTRIES[n % 10], "ip": f"10.0.{n % 251}.1"},
            }
            for n in range(10_000)
        ]
        bodies.append(json.dumps({"signals": rows}).encode())
    return bodies


def measure(store: SqliteStore | PostgresStore, stored: int, next_id: int, at: datetime) -> dict[str, Any]:
    """Ingest and detection rates, and disk, with ``stored`` signals in the store. The
    ingested batches fill the hour before ``at`` (past the bulk data), which detection then
    judges: the same work at either size."""
    db = Database(store.url)
    config = parse_config(config_data())
    clock = FixedClock(at)
    signals, anomalies, _inv = signal_services(Settings(), config, db, clock, jobs=JobRunner(db, clock))
    disk = store.disk_bytes()
    bodies = _ingest_bodies(next_id, at)
    started = time.perf_counter()
    for body in bodies:
        assert signals.ingest_body(body).accepted == 10_000
    ingest = time.perf_counter() - started
    started = time.perf_counter()
    found = anomalies.detect(at)
    detect = time.perf_counter() - started
    db.dispose()
    return {
        "stored": stored,
        "ingest_per_second": round(INGEST_SIGNALS / ingest),
        "detect_seconds": round(detect, 3),
        "anomalies": len(found.found),
        "disk_mib_per_million": round(disk / 2**20 / (stored / 1e6), 1),
    }


def run_store(store: SqliteStore | PostgresStore, total: int) -> dict[str, Any]:
    tenth = total // 10
    try:
        load_small = store.load(0, tenth, seed=1)
        small = measure(store, tenth, 10 * total, NOW + timedelta(hours=1))
        load_rest = store.load(tenth, total - tenth, seed=2)
        big = measure(store, total + INGEST_SIGNALS, 20 * total, NOW + timedelta(hours=2))
    finally:
        store.close()
    factor = 100_000_000 / total  # how many x(N/N10) steps to 100M, as a power of ten
    steps = math.log10(factor)
    # A step that came out faster is noise on a shared machine, not a store getting faster
    # as it grows: such a step projects no change.
    ingest_step = min(1.0, big["ingest_per_second"] / small["ingest_per_second"])
    detect_step = max(1.0, big["detect_seconds"] / max(small["detect_seconds"], 1e-6))
    return {
        "store": store.name,
        "signals": total,
        "bulk_load_per_second": round(total / (load_small + load_rest)),
        "at_tenth": small,
        "at_full": big,
        "projected_100m": {
            "ingest_per_second": round(big["ingest_per_second"] * ingest_step**steps),
            "detect_seconds": round(big["detect_seconds"] * detect_step**steps, 2),
            "disk_gib": round(big["disk_mib_per_million"] * 100 / 1024, 1),
            "how": f"the x10 step measured ({tenth:,} -> {total:,}) applied {steps:.1f} more time(s)",
        },
    }


def figures(quick: bool = False, pg: str | None = PG_ADMIN) -> list[dict[str, Any]]:
    """For ``python -m bench``: per store, ingest and detection with N in the store (beside
    the same at N/10), and disk per million. quick: N = 200,000 (a smoke run)."""
    total = 200_000 if quick else 10_000_000
    out: list[dict[str, Any]] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="vigil-scale-") as tmp:
        results.append(run_store(SqliteStore(Path(tmp)), total))
    if pg:
        try:
            results.append(run_store(PostgresStore(pg), total))
        except Exception as exc:  # no server here: say so rather than fail the whole bench
            out.append(
                {
                    "measure": "signals at scale, PostgreSQL",
                    "baseline": "",
                    "now": "not measured",
                    "target": "",
                    "note": f"PostgreSQL unreachable: {type(exc).__name__}",
                }
            )
    for r in results:
        small, big, projected = r["at_tenth"], r["at_full"], r["projected_100m"]
        name, n = r["store"], f"{r['signals'] / 1e6:g}M"
        out += [
            {
                "measure": f"signal ingest with {n} stored, {name} (signals/s)",
                "baseline": f"{small['ingest_per_second']:,} with {small['stored'] / 1e6:g}M stored",
                "now": f"{big['ingest_per_second']:,}",
                "target": "measured; projected to 100M",
                "note": f"100M projected: {projected['ingest_per_second']:,}/s ({projected['how']}); "
                f"bulk load {r['bulk_load_per_second']:,}/s",
            },
            {
                "measure": f"anomaly detection of one hour with {n} stored, {name} (s)",
                "baseline": f"{small['detect_seconds']} with {small['stored'] / 1e6:g}M stored",
                "now": f"{big['detect_seconds']}",
                "target": "< 30 s",
                "note": f"100M projected: {projected['detect_seconds']} s",
            },
            {
                "measure": f"disk per million signals, {name} (MiB)",
                "baseline": f"{small['disk_mib_per_million']} at {small['stored'] / 1e6:g}M",
                "now": f"{big['disk_mib_per_million']}",
                "target": "measured",
                "note": f"100M projected: {projected['disk_gib']} GiB (table, indexes, signal_ids)",
            },
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signals", type=int, default=10_000_000)
    parser.add_argument(
        "--pg", default=PG_ADMIN, help="an admin URL; the run creates and drops its own database"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="vigil-scale-") as tmp:
            print("sqlite", json.dumps(run_store(SqliteStore(Path(tmp)), args.signals)), flush=True)
    if args.only in (None, "postgresql"):
        print("postgresql", json.dumps(run_store(PostgresStore(args.pg), args.signals)), flush=True)


if __name__ == "__main__":
    main()

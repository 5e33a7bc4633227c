"""The signals service: store checked batches, route reports to cases, answer velocity.

A batch is validated whole before anything is written, then stored in one transaction
(store/signals.py writes it with Core executemany inserts; the ORM unit of work would cost
more than the database). The same transaction keeps the hourly rollups anomaly detection
reads, the shared-attribute links investigations read, and the reports table; rules
(playbooks) are not run here but in a job queued with the batch, so ingest speed does not
depend on how many rules exist.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import signals as store
from store.db import Database
from workflows.cases import timeline
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, enqueue
from workflows.metrics import SIGNALS_DUPLICATE, SIGNALS_INGESTED
from workflows.signals.fastpath import fast_rows
from workflows.signals.intake import MAX_BATCH, RowValidator, check_size, decode_batch, validate_batch
from workflows.signals.linking import NewestOpenCaseLinker
from workflows.signals.ports import SignalRuleHook
from workflows.signals.velocity import hour_of, population_stats, velocity_features
from workflows.signals.views import IngestedBatch, IngestResult, report_view

log = logging.getLogger(__name__)

JOB_INGESTED = "signals.ingested"


def _parts(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dim_value(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


@dataclass
class Stored:
    accepted: int = 0
    duplicates: int = 0
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    accounts: set[str] = field(default_factory=set)
    report_ids: list[int] = field(default_factory=list)
    received: set[datetime] = field(default_factory=set)

    def stamp(self) -> str | None:
        """The rows' common received_at, when there is one, so rules read exactly this batch."""
        return next(iter(self.received)).isoformat() if len(self.received) == 1 else None


def store_rows(
    session: Session, rows: list[dict[str, Any]], config: VigilConfig, into: Stored | None = None
) -> Stored:
    """Insert validated rows in the caller's transaction; rows whose client id is already
    stored (or repeated in the batch) are skipped and counted as duplicates."""
    out = into or Stored()
    fresh: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        client_id = row["client_id"]
        if client_id is not None:
            if client_id in seen:
                out.duplicates += 1
                continue
            seen.add(client_id)
        fresh.append(row)
    if seen:
        known = store.known_client_ids(session, seen)
        if known:
            out.duplicates += sum(1 for row in fresh if row["client_id"] in known)
            fresh = [row for row in fresh if row["client_id"] not in known]
    if not fresh:
        return out

    received_at = fresh[0]["received_at"]
    out.received.add(received_at)
    dimensions = config.signals.dimensions
    link_keys = config.signals.link_keys
    rollups: dict[store.RollupKey, list[float]] = {}
    links: dict[store.LinkKey, datetime] = {}
    reports: list[dict[str, Any]] = []
    for row in fresh:
        kind, account, occurred, attributes = (
            row["type"],
            row["account_id"],
            row["occurred_at"],
            row["attributes"],
        )
        value = row["value"]
        bucket = hour_of(occurred)
        out.by_type[kind] += 1
        out.accounts.add(account)
        keys = [(bucket, kind, "", "")]
        if attributes:
            for dim in dimensions:
                dim_value = _dim_value(attributes.get(dim), 64)
                if dim_value is not None:
                    keys.append((bucket, kind, dim, dim_value))
            for key in link_keys:
                link_value = _dim_value(attributes.get(key), 128)
                if link_value is not None:
                    link = (key, link_value, account)
                    if link not in links or occurred < links[link]:
                        links[link] = occurred
        for key in keys:
            total = rollups.get(key)
            if total is None:
                rollups[key] = [1, value or 0.0]
            else:
                total[0] += 1
                total[1] += value or 0.0
        if kind == "report":
            attrs = attributes or {}
            reports.append(
                {
                    "client_id": row["client_id"],
                    "account_id": account,
                    "reporter": attrs.get("reporter"),
                    "reason": attrs.get("reason"),
                    "text": attrs.get("text"),
                    "occurred_at": occurred,
                    "received_at": row["received_at"],
                }
            )
    store.insert_signals(session, fresh, received_at)
    store.add_to_rollups(session, rollups)
    store.link_accounts(session, links)
    out.report_ids.extend(store.insert_reports(session, reports))
    out.accepted += len(fresh)
    return out


class Signals:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        *,
        jobs: JobRunner,
        hooks: SignalRuleHook | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.jobs = jobs
        self.hooks: SignalRuleHook = hooks or NewestOpenCaseLinker(db)
        self._population: dict[datetime, dict[str, dict[str, Any]]] = {}
        self._population_lock = threading.Lock()

    def validator(self) -> RowValidator:
        return RowValidator(self.config, self.clock.now())

    def ingest_body(self, raw: bytes, source: str = "api") -> IngestResult:
        """The HTTP endpoint's whole job, off the event loop: decode, validate, store."""
        validator = self.validator()
        rows = fast_rows(raw, validator)
        if rows is None:  # something to refuse, or a form only the exact validator reads
            items = decode_batch(raw)
            check_size(items)
            rows = validate_batch(items, validator)
        return self.store([rows], source)

    def ingest(self, items: list[Any], source: str = "api") -> IngestResult:
        check_size(items)
        rows = validate_batch(items, self.validator())
        return self.store([rows], source)

    def store(self, chunks: Iterable[list[dict[str, Any]]], source: str) -> IngestResult:
        """Validated rows, in one transaction however many chunks (the CLI loads a whole file
        this way). On PostgreSQL a concurrent batch carrying the same client ids can win the
        race between our lookup and our insert; the retry then finds them stored."""
        chunks = list(chunks) if not isinstance(chunks, list) else chunks
        for attempt in range(3):
            try:
                with self.db.transaction() as session:
                    stored = Stored()
                    for chunk in chunks:
                        store_rows(session, chunk, self.config, stored)
                    if stored.accepted:
                        self._queue_rules(session, stored, source, sorted(stored.accounts), stored.report_ids)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("signal batch raced another with the same ids; retrying")
        self._count(stored, source)
        if stored.duplicates:
            SIGNALS_DUPLICATE.inc(stored.duplicates)
        if stored.accepted:
            self.jobs.wake()
        return self._result(stored)

    def store_stream(
        self,
        chunks: Iterable[list[dict[str, Any]]],
        source: str,
        on_chunk: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Like ``store`` for a file too big to hold: one transaction, chunks read as they come.
        No retry (the chunks cannot be replayed); a rerun is harmless because of the ids."""
        with self.db.transaction() as session:
            stored = Stored()
            for chunk in chunks:
                store_rows(session, chunk, self.config, stored)
                if on_chunk:
                    on_chunk(len(chunk))
            # Rules get the accounts in batch-sized parts, the reports with the first.
            for index, part in enumerate(_parts(sorted(stored.accounts), MAX_BATCH)):
                self._queue_rules(session, stored, source, part, stored.report_ids if index == 0 else [])
        self._count(stored, source)
        return self._result(stored)

    def _queue_rules(
        self, session: Session, stored: Stored, source: str, accounts: list[str], report_ids: list[int]
    ) -> None:
        enqueue(
            session,
            self.clock,
            JOB_INGESTED,
            {
                "source": source,
                "signals": stored.accepted,
                "by_type": dict(stored.by_type),
                "accounts": accounts,
                "report_ids": report_ids,
                "received_at": stored.stamp(),
            },
        )

    @staticmethod
    def _count(stored: Stored, source: str) -> None:
        for kind, count in stored.by_type.items():
            SIGNALS_INGESTED.labels(type=kind, source=source).inc(count)

    @staticmethod
    def _result(stored: Stored) -> IngestResult:
        return IngestResult(
            accepted=stored.accepted,
            duplicates=stored.duplicates,
            reports=len(stored.report_ids),
            by_type=dict(stored.by_type),
        )

    # velocity ----------------------------------------
    def population(self, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Population percentiles, computed once per hour per process (the hourly anomaly job
        warms it), so an investigation never pays for a scan of every account."""
        at = at or self.clock.now()
        hour = hour_of(at)
        with self._population_lock:
            cached = self._population.get(hour)
        if cached is not None:
            return cached
        with self.db.read() as session:
            stats = population_stats(session, hour, self.config.signals.types)
        with self._population_lock:
            self._population = {hour: stats}
        return stats

    def velocity(
        self, account_id: str, at: datetime | None = None, created_at: datetime | None = None
    ) -> dict[str, Any]:
        at = at or self.clock.now()
        population = self.population(at)
        with self.db.read() as session:
            return velocity_features(
                session, account_id, at, self.config.signals.types, population, created_at
            )

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner) -> None:
        def ingested(payload: dict[str, Any]) -> None:
            self.route_reports([int(i) for i in payload.get("report_ids") or []])
            self.hooks.signal_ingested(
                IngestedBatch(
                    source=payload.get("source", "api"),
                    signals=int(payload.get("signals", 0)),
                    by_type=dict(payload.get("by_type") or {}),
                    accounts=list(payload.get("accounts") or []),
                    report_ids=[int(i) for i in payload.get("report_ids") or []],
                    received_at=datetime.fromisoformat(payload["received_at"])
                    if payload.get("received_at")
                    else None,
                )
            )

        runner.register(JOB_INGESTED, ingested)

    def route_reports(self, report_ids: list[int]) -> dict[int, int | None]:
        """Ask the hooks which case each report belongs to, once per report; link it and note
        it on the case's timeline. Set-wise: a batch of reports costs a few statements."""
        with self.db.read() as session:
            views = [report_view(r) for r in store.unrouted_reports(session, report_ids)]
        if not views:
            return {}
        decisions = self.hooks.reports_received(views)
        now = self.clock.now()
        with self.db.transaction() as session:
            # Locked and re-read: a second worker with the same job (an expired lease) skips
            # what the first already routed instead of noting it twice.
            still = store.lock_unrouted_reports(session, [v.id for v in views])
            routed = {v.id: decisions.get(v.id) for v in views if v.id in still}
            if not routed:
                return {}
            store.mark_reports_routed(session, routed, now)
            for view in views:
                case_id = routed.get(view.id)
                if case_id is not None:
                    timeline.note(
                        session,
                        case_id,
                        "report_linked",
                        {
                            "report_id": view.id,
                            "account_id": view.account_id,
                            "reason": view.reason,
                            "reporter": view.reporter,
                        },
                        at=now,
                    )
        return routed

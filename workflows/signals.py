"""Signals: abuse telemetry in, velocity features out.

A batch is validated whole before anything is written, then stored in one transaction
with Core executemany inserts (the ORM unit of work would cost more than the database).
The same transaction keeps the hourly rollups anomaly detection reads, the shared-attribute
links investigations read, and the reports table; rules (playbooks) are not run here but
in a job queued with the batch, so ingest speed does not depend on how many rules exist.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, case, column, func, insert, select, table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.cases import Case, CaseAccount, CaseEvent
from store.db import Database
from store.signals import Report, Signal
from workflows import json_input
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, enqueue
from workflows.metrics import SIGNALS_DUPLICATE, SIGNALS_INGESTED

if TYPE_CHECKING:
    from workflows.anomalies import AnomalyView

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
MAX_BODY_BYTES = 64 * 1024 * 1024  # 10,000 rows with generous attributes; more is a client bug
MAX_REPORTED_ROWS = 100  # a 422 lists this many bad rows, and says how many there were
MAX_ID = 128
MAX_REPORT_TEXT = 10_000
FUTURE_SLACK = timedelta(hours=1)  # clients' clocks drift; the future does not send signals
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FIELDS = frozenset({"id", "type", "account_id", "occurred_at", "value", "attributes"})
REPORT_FIELDS = {"reporter": 128, "reason": 64, "text": MAX_REPORT_TEXT}
WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
PERCENTILES = (50, 90, 99)
JOB_INGESTED = "signals.ingested"


# --- validation ----------------------------------------
@dataclass(frozen=True)
class Unreadable:
    """A line of a file that is not a signal at all (the import reports it by line)."""

    reason: str


@dataclass(frozen=True)
class RowError:
    index: int  # 0-based position in the batch (the CLI adds its line number)
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": self.errors}


class BatchRejected(Exception):
    """The batch is refused whole; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, reason: str, rows: list[RowError] | None = None, bad_rows: int = 0):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.rows = rows or []
        self.bad_rows = bad_rows or len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.reason}
        if self.rows:
            body["bad_rows"] = self.bad_rows
            body["rows"] = [row.to_dict() for row in self.rows[:MAX_REPORTED_ROWS]]
        return body


def parse_time(value: Any) -> datetime:
    """ISO 8601 with a zone (``Z`` or an offset), or epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("must be an ISO 8601 time with a timezone, or epoch seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of epoch seconds")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("epoch seconds out of range") from None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time with a timezone, or epoch seconds")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value[:40]!r} has no timezone (add Z or an offset like +00:00)")
    return parsed.astimezone(UTC)


class RowValidator:
    """Turns one client row into insertable values, or a list of what is wrong with it.

    Hand-written rather than a pydantic model: it runs 10,000 times per request, and the
    error texts name the field the way the README documents it.
    """

    def __init__(self, config: VigilConfig, now: datetime) -> None:
        signals = config.signals
        self.types = frozenset(signals.types)
        self.type_list = ", ".join(signals.types)
        self.account = config.enforcement.account_id_regex()
        self.max_attributes = signals.max_attribute_bytes
        self.latest = now + FUTURE_SLACK
        self.now = now

    def __call__(self, item: Any) -> dict[str, Any] | list[str]:
        if isinstance(item, Unreadable):
            return [item.reason]
        if not isinstance(item, dict):
            return ["a signal must be a JSON object"]
        errors: list[str] = []
        unknown = item.keys() - FIELDS
        if unknown:
            errors.append(f"unknown field(s): {', '.join(sorted(str(k) for k in unknown)[:5])}")
        kind = item.get("type")
        if not isinstance(kind, str) or kind not in self.types:
            shown = kind[:40] if isinstance(kind, str) else kind
            errors.append(f"type: unknown signal type {shown!r} (one of {self.type_list})")
        account = item.get("account_id")
        if not isinstance(account, str) or not self.account.fullmatch(account):
            errors.append("account_id: missing or not an account id")
        occurred = item.get("occurred_at")
        when: datetime | None = None
        if occurred is None:
            errors.append("occurred_at: required")
        else:
            try:
                when = parse_time(occurred)
            except ValueError as exc:
                errors.append(f"occurred_at: {exc}")
            else:
                if when > self.latest:
                    errors.append("occurred_at: in the future")
                elif when < EARLIEST:
                    errors.append("occurred_at: before 2000")
        value = item.get("value")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            errors.append("value: must be a number")
        client_id = item.get("id")
        if client_id is not None:
            if isinstance(client_id, int) and not isinstance(client_id, bool):
                client_id = str(client_id)
            if not isinstance(client_id, str) or not 0 < len(client_id) <= MAX_ID:
                errors.append(f"id: must be a string of 1 to {MAX_ID} characters")
        attributes = item.get("attributes")
        encoded = None
        if attributes is not None:
            if not isinstance(attributes, dict):
                errors.append("attributes: must be an object")
            else:
                encoded = json.dumps(attributes, separators=(",", ":"), ensure_ascii=False)
                size = len(encoded.encode())
                if size > self.max_attributes:
                    errors.append(f"attributes: {size} bytes, over the {self.max_attributes}-byte limit")
                if kind == "report":
                    for name, limit in REPORT_FIELDS.items():
                        got = attributes.get(name)
                        if got is not None and (not isinstance(got, str) or len(got) > limit):
                            errors.append(f"attributes.{name}: must be text of at most {limit} characters")
        if errors:
            return errors
        return {
            "client_id": client_id,
            "type": kind,
            "account_id": account,
            "occurred_at": when,
            "value": float(value) if value is not None else None,
            "attributes": attributes or None,
            "attributes_json": encoded if attributes else None,
            "received_at": self.now,
        }


def validate_batch(items: list[Any], validator: RowValidator) -> list[dict[str, Any]]:
    """All rows, or BatchRejected(422) naming every bad one (the first hundred in detail)."""
    rows: list[dict[str, Any]] = []
    bad: list[RowError] = []
    for index, item in enumerate(items):
        result = validator(item)
        if isinstance(result, list):
            bad.append(RowError(index, result))
        else:
            rows.append(result)
    if bad:
        raise BatchRejected(422, f"{len(bad)} of {len(items)} signals are invalid; nothing was stored", bad)
    return rows


def decode_batch(raw: bytes) -> list[Any]:
    """The request body: ``{"signals": [...]}`` (or a bare array). 400/413 when unusable."""
    try:
        body = json_input.loads(raw)
    except json_input.JsonInputError as exc:
        raise BatchRejected(400, f"body is {exc}") from None
    items = body.get("signals") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise BatchRejected(400, 'body must be {"signals": [...]} (a JSON array of signals)')
    if len(items) > MAX_BATCH:
        raise BatchRejected(413, f"{len(items)} signals in one batch; the limit is {MAX_BATCH}")
    return items


# --- what hooks and adapters see ----------------------------------------
@dataclass(frozen=True)
class ReportView:
    id: int
    client_id: str | None
    account_id: str
    reporter: str | None
    reason: str | None
    text: str | None
    occurred_at: datetime
    case_id: int | None


@dataclass(frozen=True)
class IngestedBatch:
    """One stored batch, as rules see it (after commit, in a job)."""

    source: str
    signals: int
    by_type: dict[str, int]
    accounts: list[str]
    report_ids: list[int]
    received_at: datetime | None = None  # the batch's stamp on its rows, so rules can read them


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    reports: int
    by_type: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, "accepted": self.accepted, "duplicates": self.duplicates, "reports": self.reports}


class RuleHooks(Protocol):
    """Where playbooks plug in (triggers ``report.received``, ``signal.ingested``,
    ``anomaly.detected``). Called after the data is committed, from jobs or the detector,
    never inside the ingest transaction."""

    def reports_received(self, reports: list[ReportView]) -> dict[int, int | None]:
        """Trigger ``report.received``: for each report id, the case it belongs to (its id),
        or None to leave it unlinked. Given a whole batch, so a rule may look things up once."""
        ...

    def signal_ingested(self, batch: IngestedBatch) -> None: ...

    def anomaly_detected(self, anomaly: AnomalyView) -> None: ...


class DefaultRuleHooks:
    """Until playbooks exist: a report joins the newest open case that mentions its account."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def reports_received(self, reports: list[ReportView]) -> dict[int, int | None]:
        newest: dict[str, tuple[datetime, int]] = {}
        accounts = sorted({r.account_id for r in reports})
        with self.db.read() as session:
            for chunk in _chunks(accounts, _ID_CHUNK):
                for account, case_id, created in session.execute(
                    select(CaseAccount.account_id, Case.id, Case.created_at)
                    .join(Case, Case.id == CaseAccount.case_id)
                    .where(CaseAccount.account_id.in_(chunk), Case.status != "resolved")
                ):
                    if account not in newest or (created, case_id) > newest[account]:
                        newest[account] = (created, case_id)
        return {r.id: newest[r.account_id][1] if r.account_id in newest else None for r in reports}

    def signal_ingested(self, batch: IngestedBatch) -> None:
        return None

    def anomaly_detected(self, anomaly: AnomalyView) -> None:
        return None


# --- storing ----------------------------------------
# The hot path writes through untyped Core tables with values already in the driver's
# form: SQLAlchemy's per-row type processing (UTC conversion, datetime formatting, JSON
# encoding) cost more than SQLite's own insert. The typed models in store/signals.py stay
# the schema; these mirror their column names only.
_RAW_SIGNALS = table(
    "signals",
    column("client_id"),
    column("type"),
    column("account_id"),
    column("occurred_at"),
    column("value"),
    column("attributes"),
    column("received_at"),
)
_RAW_ROLLUPS = table(
    "signal_rollups",
    column("bucket"),
    column("signal_type"),
    column("dimension"),
    column("dim_value"),
    column("count"),
    column("value_sum"),
)
_RAW_LINKS = table(
    "signal_links", column("key"), column("value"), column("account_id"), column("first_seen_at")
)
_ID_CHUNK = 5000  # under SQLite's and psycopg's bound-parameter limits


def _sqlite_time(at: datetime) -> str:
    # Exactly SQLAlchemy's SQLite DATETIME storage format (naive UTC; comparisons are
    # textual). Every time here is already in UTC, so the "+00:00" suffix is what is cut.
    return at.isoformat(" ", "microseconds")[:-6]


def _time_param(session: Session) -> Callable[[datetime], Any]:
    return _sqlite_time if session.get_bind().dialect.name == "sqlite" else (lambda at: at)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _dim_value(value: Any, limit: int) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _upsert(session: Session, raw: Any, rows: list[dict[str, Any]], keys: list[str], add: list[str]) -> None:
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = module.insert(raw)
    if add:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={col: raw.c[col] + stmt.excluded[col] for col in add}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt, rows)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
        known: set[str] = set()
        connection = session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        for chunk in _chunks(sorted(seen), _ID_CHUNK):
            # Driver-level: SQLAlchemy's expansion of a 5,000-value IN costs more than the query.
            found = connection.exec_driver_sql(
                f"SELECT client_id FROM signals WHERE client_id IN ({', '.join([mark] * len(chunk))})",
                tuple(chunk),
            )
            known.update(found.scalars())
        if known:
            out.duplicates += sum(1 for row in fresh if row["client_id"] in known)
            fresh = [row for row in fresh if row["client_id"] not in known]
    if not fresh:
        return out

    when = _time_param(session)
    out.received.add(fresh[0]["received_at"])
    received = when(fresh[0]["received_at"])
    dimensions = config.signals.dimensions
    link_keys = config.signals.link_keys
    signals: list[dict[str, Any]] = []
    rollups: dict[tuple[datetime, str, str, str], list[float]] = {}
    links: dict[tuple[str, str, str], datetime] = {}
    reports: list[dict[str, Any]] = []
    for row in fresh:
        kind, account, occurred, attributes = (
            row["type"],
            row["account_id"],
            row["occurred_at"],
            row["attributes"],
        )
        value = row["value"]
        signals.append(
            {
                "client_id": row["client_id"],
                "type": kind,
                "account_id": account,
                "occurred_at": when(occurred),
                "value": value,
                "attributes": row["attributes_json"],
                "received_at": received,
            }
        )
        bucket = _hour(occurred)
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
    session.execute(insert(_RAW_SIGNALS), signals)
    # Sorted, so two batches upserting the same hours on PostgreSQL lock rows in one order.
    _upsert(
        session,
        _RAW_ROLLUPS,
        [
            {
                "bucket": when(b),
                "signal_type": t,
                "dimension": d,
                "dim_value": v,
                "count": int(c),
                "value_sum": s,
            }
            for (b, t, d, v), (c, s) in sorted(rollups.items())
        ],
        ["bucket", "signal_type", "dimension", "dim_value"],
        ["count", "value_sum"],
    )
    if links:
        _upsert(
            session,
            _RAW_LINKS,
            [
                {"key": k, "value": v, "account_id": a, "first_seen_at": when(at)}
                for (k, v, a), at in sorted(links.items())
            ],
            ["key", "value", "account_id"],
            [],
        )
    if reports:
        reports_table = Report.__table__
        out.report_ids.extend(
            session.scalars(insert(reports_table).returning(reports_table.c.id), reports)  # type: ignore[arg-type]
        )
    out.accepted += len(fresh)
    return out


# --- velocity ----------------------------------------
def _percentile(sorted_values: list[float], p: int) -> float:
    """Nearest rank: the smallest value at or above p% of the population."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def population_stats(session: Session, at: datetime, types: Iterable[str]) -> dict[str, dict[str, Any]]:
    """p50/p90/p99 of each window's per-account count of each type, over the accounts that
    had that type in the window. One indexed range scan per type (the 7-day window)."""
    out: dict[str, dict[str, Any]] = {name: {} for name in WINDOWS}
    since = {name: at - delta for name, delta in WINDOWS.items()}
    for kind in types:
        rows = session.execute(
            select(
                func.sum(case((Signal.occurred_at > since["1h"], 1), else_=0)),
                func.sum(case((Signal.occurred_at > since["24h"], 1), else_=0)),
                func.count(),
            )
            .where(Signal.type == kind, Signal.occurred_at > since["7d"], Signal.occurred_at <= at)
            .group_by(Signal.account_id)
        ).all()
        for position, name in enumerate(WINDOWS):
            counts = sorted(float(row[position]) for row in rows if row[position])
            if counts:
                out[name][kind] = {
                    **{f"p{p}": _percentile(counts, p) for p in PERCENTILES},
                    "accounts": len(counts),
                }
    return out


def velocity_features(
    session: Session,
    account_id: str,
    at: datetime,
    types: Iterable[str],
    population: dict[str, dict[str, Any]] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """What playbook conditions and investigations read about an account (docs/velocity.md)."""
    types = list(types)
    since = {name: at - delta for name, delta in WINDOWS.items()}
    columns: list[Any] = [Signal.type]
    for name in ("1h", "24h"):
        columns.append(func.sum(case((Signal.occurred_at > since[name], 1), else_=0)))
        columns.append(
            func.sum(case((Signal.occurred_at > since[name], func.coalesce(Signal.value, 0)), else_=0))
        )
    columns += [func.count(), func.sum(func.coalesce(Signal.value, 0))]
    rows = session.execute(
        select(*columns)
        .where(Signal.account_id == account_id, Signal.occurred_at > since["7d"], Signal.occurred_at <= at)
        .group_by(Signal.type)
    ).all()
    windows: dict[str, dict[str, dict[str, float]]] = {
        name: {kind: {"count": 0, "sum": 0.0} for kind in types} for name in WINDOWS
    }
    for kind, c1, s1, c24, s24, c7, s7 in rows:
        for name, count, total in (("1h", c1, s1), ("24h", c24, s24), ("7d", c7, s7)):
            windows[name][kind] = {"count": int(count or 0), "sum": float(total or 0.0)}
    first_seen, last_seen = session.execute(
        select(func.min(Signal.occurred_at), func.max(Signal.occurred_at)).where(
            Signal.account_id == account_id
        )
    ).one()
    if created_at is not None:
        origin, source = created_at, "profile"
    elif first_seen is not None:
        origin, source = first_seen, "first_seen"
    else:
        origin, source = None, None
    return {
        "account_id": account_id,
        "at": at.isoformat(),
        "first_seen": first_seen.isoformat() if first_seen else None,
        "last_seen": last_seen.isoformat() if last_seen else None,
        "account_created_at": created_at.isoformat() if created_at else None,
        "account_age_days": round((at - origin).total_seconds() / 86400, 2) if origin else None,
        "account_age_source": source,
        "windows": windows,
        "population": population if population is not None else {name: {} for name in WINDOWS},
    }


# --- the workflow ----------------------------------------
class Signals:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        hooks: RuleHooks | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.hooks: RuleHooks = hooks or DefaultRuleHooks(db)
        self._wake = wake or (lambda: None)
        self._population: dict[datetime, dict[str, dict[str, Any]]] = {}
        self._population_lock = threading.Lock()

    def validator(self) -> RowValidator:
        return RowValidator(self.config, self.clock.now())

    def ingest_body(self, raw: bytes, source: str = "api") -> IngestResult:
        """The HTTP endpoint's whole job, off the event loop: decode, validate, store."""
        return self.ingest(decode_batch(raw), source)

    def ingest(self, items: list[Any], source: str = "api") -> IngestResult:
        if len(items) > MAX_BATCH:
            raise BatchRejected(413, f"{len(items)} signals in one batch; the limit is {MAX_BATCH}")
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
                        enqueue(
                            session,
                            self.clock,
                            JOB_INGESTED,
                            {
                                "source": source,
                                "signals": stored.accepted,
                                "by_type": dict(stored.by_type),
                                "accounts": sorted(stored.accounts),
                                "report_ids": stored.report_ids,
                                "received_at": stored.stamp(),
                            },
                        )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("signal batch raced another with the same ids; retrying")
        for kind, count in stored.by_type.items():
            SIGNALS_INGESTED.labels(type=kind, source=source).inc(count)
        if stored.duplicates:
            SIGNALS_DUPLICATE.inc(stored.duplicates)
        if stored.accepted:
            self._wake()
        return IngestResult(
            accepted=stored.accepted,
            duplicates=stored.duplicates,
            reports=len(stored.report_ids),
            by_type=dict(stored.by_type),
        )

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
            for index, part in enumerate(_chunks(sorted(stored.accounts), MAX_BATCH)):
                enqueue(
                    session,
                    self.clock,
                    JOB_INGESTED,
                    {
                        "source": source,
                        "signals": stored.accepted,
                        "by_type": dict(stored.by_type),
                        "accounts": part,
                        "report_ids": stored.report_ids if index == 0 else [],
                        "received_at": stored.stamp(),
                    },
                )
        for kind, count in stored.by_type.items():
            SIGNALS_INGESTED.labels(type=kind, source=source).inc(count)
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
        hour = _hour(at)
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
        views: list[ReportView] = []
        with self.db.read() as session:
            for chunk in _chunks(sorted(report_ids), _ID_CHUNK):
                views += [
                    report_view(r)
                    for r in session.scalars(
                        select(Report).where(Report.id.in_(chunk), Report.routed_at.is_(None))
                    )
                ]
        if not views:
            return {}
        decisions = self.hooks.reports_received(views)
        now = self.clock.now()
        reports = Report.__table__
        with self.db.transaction() as session:
            # Locked and re-read: a second worker with the same job (an expired lease) skips
            # what the first already routed instead of noting it twice.
            still: set[int] = set()
            for chunk in _chunks([v.id for v in views], _ID_CHUNK):
                still.update(
                    session.scalars(
                        select(Report.id)
                        .where(Report.id.in_(chunk), Report.routed_at.is_(None))
                        .with_for_update()
                    )
                )
            routed = {v.id: decisions.get(v.id) for v in views if v.id in still}
            if not routed:
                return {}
            session.execute(
                update(reports)
                .where(reports.c.id == bindparam("report_id"))
                .values(case_id=bindparam("linked_case"), routed_at=now),
                [{"report_id": rid, "linked_case": cid} for rid, cid in routed.items()],
            )
            events = [
                {
                    "case_id": routed[v.id],
                    "at": now,
                    "actor": None,
                    "kind": "report_linked",
                    "data": {
                        "report_id": v.id,
                        "account_id": v.account_id,
                        "reason": v.reason,
                        "reporter": v.reporter,
                    },
                }
                for v in views
                if routed.get(v.id) is not None
            ]
            if events:
                session.execute(insert(CaseEvent.__table__), events)  # type: ignore[arg-type]
        return routed

    def reports_for(self, account_id: str, limit: int = 20) -> list[ReportView]:
        with self.db.read() as session:
            rows = session.scalars(
                select(Report)
                .where(Report.account_id == account_id)
                .order_by(Report.occurred_at.desc(), Report.id.desc())
                .limit(limit)
            )
            return [report_view(r) for r in rows]


def report_view(report: Report) -> ReportView:
    return ReportView(
        id=report.id,
        client_id=report.client_id,
        account_id=report.account_id,
        reporter=report.reporter,
        reason=report.reason,
        text=report.text,
        occurred_at=report.occurred_at,
        case_id=report.case_id,
    )


# --- files (vigil signals import) ----------------------------------------
CSV_COLUMNS = {"id", "type", "account_id", "occurred_at", "value", "attributes"}


def _csv_item(record: dict[str, str | None]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, raw in record.items():
        if key is None or raw is None or raw == "":
            continue
        if key == "attributes":
            try:
                parsed = json_input.loads(raw)
            except ValueError:
                parsed = raw  # the validator says what is wrong with it
            if isinstance(parsed, dict):
                attributes.update(parsed)
            else:
                item["attributes"] = parsed
        elif key == "value":
            try:
                item["value"] = float(raw)
            except ValueError:
                item["value"] = raw
        elif key in CSV_COLUMNS:
            item[key] = raw
        else:
            attributes[key] = raw
    if attributes and "attributes" not in item:
        item["attributes"] = attributes
    return item


def read_signal_file(path: Any, fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, signal object) for each row of a CSV or JSON Lines file."""
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            for record in reader:
                yield reader.line_num, _csv_item(record)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json_input.loads(line)
            except json_input.JsonInputError as exc:
                yield number, Unreadable(str(exc))

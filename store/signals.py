"""Signals (abuse telemetry), their hourly rollups, shared-attribute links, and reports:
the tables, and every query the signals, anomalies and investigations workflows ask of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    case,
    column,
    func,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from store.base import Base, JSONType, UTCDateTime
from store.cases import Case, CaseAccount
from store.signal_ingest import (  # noqa: F401  (the signals store, one import for its callers)
    ID_CHUNK,
    chunked,
    insert_signals,
    known_client_ids,
)


class Signal(Base):
    """One observation about one account. Append-only: nothing updates a signal."""

    __tablename__ = "signals"
    __table_args__ = (
        # The investigation timeline and velocity features read one account's recent rows.
        Index("ix_signals_account_id_occurred_at", "account_id", "occurred_at"),
        # Population percentiles and anomaly drill-downs read one type over a time range; the
        # account id rides along so those scans never touch the (wide) table rows.
        Index("ix_signals_type_occurred_at", "type", "occurred_at", "account_id"),
    )

    # On PostgreSQL the table is partitioned by month of occurred_at (migration 0012) and its
    # primary key is (id, occurred_at); ids stay unique, drawn from one sequence.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The client's own id, kept for reading; its uniqueness lives in signal_ids.
    client_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignalId(Base):
    """A client id already stored: what makes a retried batch harmless. Its own table because a
    partitioned table cannot hold a unique index without the partition key."""

    __tablename__ = "signal_ids"
    __table_args__ = {"sqlite_with_rowid": False}  # one B-tree keyed by the id

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # retention's cut


class SignalRollup(Base):
    """Hourly counts per signal type, overall (dimension '') and per attribute value.

    Maintained in the ingest transaction, so anomaly detection reads a few thousand rows
    instead of aggregating millions of signals.
    """

    __tablename__ = "signal_rollups"
    __table_args__ = (Index("ix_signal_rollups_signal_type_bucket", "signal_type", "bucket"),)

    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)  # the hour's start, UTC
    signal_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim_value: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    value_sum: Mapped[float] = mapped_column(Float)


class SignalLink(Base):
    """Which accounts share a value of a linking attribute (payment fingerprint, device id)."""

    __tablename__ = "signal_links"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    """An abuse report (a signal of type ``report``), linked to a case when one fits."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    reporter: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- ingest: the hot path ---------------------------------------------------------------------
# It writes through untyped Core tables with values already in the driver's form:
# SQLAlchemy's per-row type processing (UTC conversion, datetime formatting, JSON encoding)
# cost more than SQLite's own insert. The typed models above stay the schema; these mirror
# their column names only. The signals rows themselves are written below SQLAlchemy (COPY on
# PostgreSQL) in store/signal_ingest.py.
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

RollupKey = tuple[datetime, str, str, str]  # hour, signal type, dimension ('' overall), value
LinkKey = tuple[str, str, str]  # linking attribute, its value, account id


def _sqlite_time(at: datetime) -> str:
    # Exactly SQLAlchemy's SQLite DATETIME storage format (naive UTC; comparisons are
    # textual). Every time here is already in UTC, so the "+00:00" suffix is what is cut.
    return at.isoformat(" ", "microseconds")[:-6]


def _time_param(session: Session) -> Callable[[datetime], Any]:
    return _sqlite_time if session.get_bind().dialect.name == "sqlite" else (lambda at: at)


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


def add_to_rollups(session: Session, totals: Mapping[RollupKey, Sequence[float]]) -> None:
    """Adds (count, value sum) to each hour's rollup, creating the ones not there yet."""
    if not totals:
        return
    when = _time_param(session)
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
            for (b, t, d, v), (c, s) in sorted(totals.items())
        ],
        ["bucket", "signal_type", "dimension", "dim_value"],
        ["count", "value_sum"],
    )


def link_accounts(session: Session, first_seen: Mapping[LinkKey, datetime]) -> None:
    """Records that each account carried each linking value; a link already known keeps its
    first sighting."""
    if not first_seen:
        return
    when = _time_param(session)
    _upsert(
        session,
        _RAW_LINKS,
        [
            {"key": k, "value": v, "account_id": a, "first_seen_at": when(at)}
            for (k, v, a), at in sorted(first_seen.items())
        ],
        ["key", "value", "account_id"],
        [],
    )


def insert_reports(session: Session, reports: list[dict[str, Any]]) -> list[int]:
    """Stores abuse reports (typed: their text is client text); returns their ids in order."""
    if not reports:
        return []
    reports_table = Report.__table__
    return list(
        session.scalars(insert(reports_table).returning(reports_table.c.id), reports)  # type: ignore[arg-type]
    )


# --- reports and the cases they join ------------------------------------------------------------
def unrouted_reports(session: Session, report_ids: Iterable[int]) -> list[Report]:
    out: list[Report] = []
    for chunk in chunked(sorted(report_ids)):
        out += session.scalars(select(Report).where(Report.id.in_(chunk), Report.routed_at.is_(None)))
    return out


def lock_unrouted_reports(session: Session, report_ids: Sequence[int]) -> set[int]:
    """Which of these reports are still unrouted, locked until the caller's commit."""
    still: set[int] = set()
    for chunk in chunked(report_ids):
        still.update(
            session.scalars(
                select(Report.id).where(Report.id.in_(chunk), Report.routed_at.is_(None)).with_for_update()
            )
        )
    return still


def mark_reports_routed(session: Session, case_of: Mapping[int, int | None], at: datetime) -> None:
    """Each report is routed: linked to its case, or to none."""
    reports = Report.__table__
    session.execute(
        update(reports)
        .where(reports.c.id == bindparam("report_id"))
        .values(case_id=bindparam("linked_case"), routed_at=at),
        [{"report_id": rid, "linked_case": cid} for rid, cid in case_of.items()],
    )


def reports_of_account(session: Session, account_id: str, limit: int) -> list[Report]:
    """The account's newest reports."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.account_id == account_id)
            .order_by(Report.occurred_at.desc(), Report.id.desc())
            .limit(limit)
        )
    )


def newest_open_case_by_account(session: Session, accounts: Iterable[str]) -> dict[str, int]:
    """For each account, the newest unresolved case that mentions it (accounts without one
    are left out)."""
    newest: dict[str, tuple[datetime, int]] = {}
    for chunk in chunked(sorted(set(accounts))):
        for account, case_id, created in session.execute(
            select(CaseAccount.account_id, Case.id, Case.created_at)
            .join(Case, Case.id == CaseAccount.case_id)
            .where(CaseAccount.account_id.in_(chunk), Case.status != "resolved")
        ):
            if account not in newest or (created, case_id) > newest[account]:
                newest[account] = (created, case_id)
    return {account: case_id for account, (_created, case_id) in newest.items()}


# --- velocity ----------------------------------------------------------------------------------
def account_counts_in_windows(
    session: Session, signal_type: str, starts: Sequence[datetime], at: datetime
) -> list[tuple[int, ...]]:
    """For every account with ``signal_type`` in (starts[-1], at]: its count after each of
    ``starts`` (the last, the widest window, is its whole count). One indexed range scan."""
    *narrower, widest = starts
    columns: list[Any] = [func.sum(case((Signal.occurred_at > start, 1), else_=0)) for start in narrower]
    rows = session.execute(
        select(*columns, func.count())
        .where(Signal.type == signal_type, Signal.occurred_at > widest, Signal.occurred_at <= at)
        .group_by(Signal.account_id)
    ).all()
    return [tuple(int(count or 0) for count in row) for row in rows]


def account_totals_in_windows(
    session: Session, account_id: str, starts: Sequence[datetime], at: datetime
) -> list[tuple[str, list[tuple[int, float]]]]:
    """Per signal type of the account in (starts[-1], at]: (count, value sum) after each of
    ``starts`` (the last is the widest window)."""
    *narrower, widest = starts
    columns: list[Any] = [Signal.type]
    for start in narrower:
        columns.append(func.sum(case((Signal.occurred_at > start, 1), else_=0)))
        columns.append(func.sum(case((Signal.occurred_at > start, func.coalesce(Signal.value, 0)), else_=0)))
    columns += [func.count(), func.sum(func.coalesce(Signal.value, 0))]
    rows = session.execute(
        select(*columns)
        .where(Signal.account_id == account_id, Signal.occurred_at > widest, Signal.occurred_at <= at)
        .group_by(Signal.type)
    ).all()
    return [
        (
            row[0],
            [(int(row[1 + 2 * n] or 0), float(row[2 + 2 * n] or 0.0)) for n in range(len(starts))],
        )
        for row in rows
    ]


def first_and_last_seen(session: Session, account_id: str) -> tuple[datetime | None, datetime | None]:
    first, last = session.execute(
        select(func.min(Signal.occurred_at), func.max(Signal.occurred_at)).where(
            Signal.account_id == account_id
        )
    ).one()
    return first, last


# --- what investigations read ------------------------------------------------------------------
def signal_count_of(session: Session, account_id: str) -> int:
    return session.scalar(select(func.count()).where(Signal.account_id == account_id)) or 0


def latest_signals_of(session: Session, account_id: str, until: datetime, limit: int) -> list[Signal]:
    return list(
        session.scalars(
            select(Signal)
            .where(Signal.account_id == account_id, Signal.occurred_at <= until)
            .order_by(Signal.occurred_at.desc())
            .limit(limit)
        )
    )


def shared_links(
    session: Session, account_id: str, keys: Sequence[str], limit: int
) -> list[tuple[str, str, str]]:
    """(other account, attribute, value) for each linking value the account shares."""
    mine, other = aliased(SignalLink), aliased(SignalLink)
    rows = session.execute(
        select(other.account_id, other.key, other.value)
        .join(mine, (mine.key == other.key) & (mine.value == other.value))
        .where(mine.account_id == account_id, other.account_id != account_id, mine.key.in_(keys))
        .order_by(other.account_id, other.key, other.value)
        .limit(limit)
    ).all()
    return [(account, key, value) for account, key, value in rows]


# --- what anomaly detection reads --------------------------------------------------------------
def rollup_counts(session: Session, buckets: Sequence[datetime]) -> list[tuple[str, str, str, datetime, int]]:
    """(signal type, dimension, value, hour, count) of every series in these hours."""
    rows = session.execute(
        select(
            SignalRollup.signal_type,
            SignalRollup.dimension,
            SignalRollup.dim_value,
            SignalRollup.bucket,
            SignalRollup.count,
        ).where(SignalRollup.bucket.in_(buckets))
    )
    return [(t, d, v, b, c) for t, d, v, b, c in rows]


def rollup_counts_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, str, str, datetime, int]]:
    """(signal type, dimension, value, hour, count) of every series from ``start`` to ``end``
    (both included): one range scan of the hourly rollups."""
    rows = session.execute(
        select(
            SignalRollup.signal_type,
            SignalRollup.dimension,
            SignalRollup.dim_value,
            SignalRollup.bucket,
            SignalRollup.count,
        ).where(SignalRollup.bucket >= start, SignalRollup.bucket <= end)
    )
    return [(t, d, v, b, c) for t, d, v, b, c in rows]


def first_rollup_hour(session: Session, signal_type: str) -> datetime | None:
    """The first hour the signal type was seen: how much history it has."""
    return session.scalar(
        select(func.min(SignalRollup.bucket)).where(SignalRollup.signal_type == signal_type)
    )


def rollup_series(
    session: Session, signal_type: str, dimension: str, dim_value: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """One series' hourly counts from ``start`` to ``end`` (both included)."""
    rows = session.execute(
        select(SignalRollup.bucket, SignalRollup.count).where(
            SignalRollup.signal_type == signal_type,
            SignalRollup.dimension == dimension,
            SignalRollup.dim_value == dim_value,
            SignalRollup.bucket >= start,
            SignalRollup.bucket <= end,
        )
    ).all()
    return {bucket: count for bucket, count in rows}


def top_accounts(
    session: Session,
    signal_type: str,
    start: datetime,
    end: datetime,
    dimension: str = "",
    dim_value: str = "",
    limit: int = 5,
) -> list[tuple[str, int]]:
    """The accounts with the most signals of the type in [start, end), within one attribute
    value when ``dimension`` is given."""
    query = (
        select(Signal.account_id, func.count())
        .where(Signal.type == signal_type, Signal.occurred_at >= start, Signal.occurred_at < end)
        .group_by(Signal.account_id)
        .order_by(func.count().desc(), Signal.account_id)
        .limit(limit)
    )
    if dimension:
        query = query.where(Signal.attributes[dimension].as_string() == dim_value)
    return [(account, int(count)) for account, count in session.execute(query)]

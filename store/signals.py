"""Signals (abuse telemetry), their hourly rollups, shared-attribute links, and reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, UTCDateTime


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

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The client's own id, when it sends one: a retried batch is then harmless.
    client_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


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

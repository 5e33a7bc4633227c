"""Anomalies: one row per series, hour and kind, whoever detects it first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, UTCDateTime


class Anomaly(Base):
    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_series", "signal_type", "dimension", "dim_value", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # type|dimension|value|kind|hour: the scheduler on every replica and the CLI agree on it.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    dimension: Mapped[str] = mapped_column(String(64))  # '' for the type overall
    dim_value: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # spike, drop, new_contributor
    observed: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # new, posted, suppressed
    feedback: Mapped[str | None] = mapped_column(String(16))  # snoozed, not_an_issue, investigated
    feedback_by: Mapped[str | None] = mapped_column(String(32))
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    chart_file_id: Mapped[str | None] = mapped_column(String(32))

    @property
    def series(self) -> str:
        where = f" {self.dimension}={self.dim_value}" if self.dimension else ""
        return f"{self.signal_type}{where}"

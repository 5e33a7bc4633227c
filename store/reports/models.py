"""The digest_runs table: one row per digest and period, the exactly-once guard of scheduled posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, UTCDateTime

# Run statuses. "posting" is the short window around the Slack call: a run found there
# with its lease run out was interrupted mid-post, and Vigil cannot know whether Slack got it.
CLAIMED, POSTING, POSTED, FAILED_RUN = "claimed", "posting", "posted", "failed"


class DigestRun(Base):
    __tablename__ = "digest_runs"
    __table_args__ = (
        # The guard: whoever inserts (digest, period) first posts it; everyone else does nothing.
        UniqueConstraint("digest", "period", name="uq_digest_runs_digest_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(32))  # weekly, investigations, shift
    period: Mapped[str] = mapped_column(String(16))  # 2026-W46, 2026-11-23
    status: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)  # bumps on every re-claim (retry, --force)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # Slack posts tried
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    charts: Mapped[list[str]] = mapped_column(JSONType, default=list)  # chart names uploaded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

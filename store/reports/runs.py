"""Digest runs: claiming a (digest, period) once and moving it claimed → posting → posted.

Every move is one conditional UPDATE that succeeds only if the run is still in the state
(status and round) the caller saw, so two replicas, a late job of an old round or a person
forcing a post never both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from store.base import insert_ignore
from store.reports.models import CLAIMED, FAILED_RUN, POSTED, POSTING, DigestRun


def get_run(session: Session, digest: str, period: str) -> DigestRun | None:
    return session.scalars(
        select(DigestRun).where(DigestRun.digest == digest, DigestRun.period == period)
    ).first()


def run_by_id(session: Session, run_id: int) -> DigestRun | None:
    return session.get(DigestRun, run_id)


def recent_runs(session: Session, limit: int = 20) -> list[DigestRun]:
    return list(session.scalars(select(DigestRun).order_by(DigestRun.id.desc()).limit(limit)))


def insert_run(session: Session, digest: str, period: str, by: str, now: datetime, lease: datetime) -> bool:
    """Claims a period nobody has claimed; False when another replica inserted it first."""
    return insert_ignore(
        session,
        DigestRun.__table__,  # type: ignore[arg-type]
        {
            "digest": digest,
            "period": period,
            "status": CLAIMED,
            "round": 1,
            "attempts": 0,
            "retryable": True,
            "forced": False,
            "claimed_by": by,
            "lease_until": lease,
            "charts": [],
            "created_at": now,
            "updated_at": now,
        },
        ["digest", "period"],
    )


def reclaim_run(
    session: Session,
    run_id: int,
    seen_status: str,
    seen_round: int,
    by: str,
    now: datetime,
    lease: datetime,
    *,
    forced: bool = False,
) -> DigestRun | None:
    """A new round of a run still as the caller saw it; ``forced`` (a person's --force) also
    forgets the earlier post, so it is made again."""
    values: dict[str, Any] = {
        "status": CLAIMED,
        "round": seen_round + 1,
        "claimed_by": by,
        "lease_until": lease,
        "updated_at": now,
        "retryable": True,
    }
    if forced:
        values.update(forced=True, attempts=0, error=None, ts=None, channel=None, posted_at=None, charts=[])
    return _move(session, run_id, (DigestRun.status == seen_status) & (DigestRun.round == seen_round), values)


def start_posting(
    session: Session, run_id: int, round_: int, by: str, now: datetime, lease: datetime
) -> DigestRun | None:
    """claimed → posting for this round, counting the attempt; None when the round moved on."""
    return _move(
        session,
        run_id,
        (DigestRun.status == CLAIMED) & (DigestRun.round == round_),
        {
            "status": POSTING,
            "attempts": DigestRun.attempts + 1,
            "claimed_by": by,
            "lease_until": lease,
            "updated_at": now,
        },
    )


def mark_posted(
    session: Session, run_id: int, round_: int, channel: str, ts: str, now: datetime
) -> DigestRun | None:
    return _move(
        session,
        run_id,
        _posting(round_),
        {
            "status": POSTED,
            "channel": channel,
            "ts": ts,
            "error": None,
            "posted_at": now,
            "lease_until": None,
            "updated_at": now,
        },
    )


def mark_failed(
    session: Session, run_id: int, round_: int, error: str, *, retryable: bool, now: datetime
) -> DigestRun | None:
    """posting → failed: the post raised, or the run was found interrupted mid-post."""
    return _move(
        session,
        run_id,
        _posting(round_),
        {"status": FAILED_RUN, "error": error, "retryable": retryable, "updated_at": now},
    )


def add_uploaded_chart(session: Session, run_id: int, name: str) -> None:
    """Records one more chart in the run's thread (row-locked: chart jobs run side by side)."""
    row = session.get(DigestRun, run_id, with_for_update=True)
    assert row is not None
    row.charts = sorted({*(row.charts or []), name})


def _posting(round_: int) -> ColumnElement[bool]:
    return (DigestRun.status == POSTING) & (DigestRun.round == round_)


def _move(
    session: Session, run_id: int, where: ColumnElement[bool], values: dict[str, Any]
) -> DigestRun | None:
    won = session.execute(
        update(DigestRun).where(DigestRun.id == run_id, where).values(**values).returning(DigestRun.id)
    ).first()
    if not won:
        return None
    run = session.get(DigestRun, run_id)
    assert run is not None
    session.refresh(run)
    return run

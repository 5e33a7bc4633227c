"""Velocity: how much an account did in the last hour, day and week, beside the population's
percentiles (docs/velocity.md). What playbook conditions and investigations read."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from store import signals as store

WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
PERCENTILES = (50, 90, 99)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def percentile(sorted_values: Sequence[float], p: int) -> float:
    """Nearest rank: the smallest value at or above p% of the population."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def population_summary(counts: Iterable[float]) -> dict[str, Any] | None:
    """p50/p90/p99 of per-account counts, over the accounts that had any; None if none had."""
    ordered = sorted(float(count) for count in counts if count)
    if not ordered:
        return None
    return {**{f"p{p}": percentile(ordered, p) for p in PERCENTILES}, "accounts": len(ordered)}


def window_starts(at: datetime) -> list[datetime]:
    """Where each window starts, in WINDOWS' order (the widest last)."""
    return [at - delta for delta in WINDOWS.values()]


def population_stats(session: Session, at: datetime, types: Iterable[str]) -> dict[str, dict[str, Any]]:
    """p50/p90/p99 of each window's per-account count of each type, over the accounts that
    had that type in the window. One indexed range scan per type (the 7-day window)."""
    out: dict[str, dict[str, Any]] = {name: {} for name in WINDOWS}
    starts = window_starts(at)
    for kind in types:
        rows = store.account_counts_in_windows(session, kind, starts, at)
        for position, name in enumerate(WINDOWS):
            summary = population_summary(row[position] for row in rows)
            if summary is not None:
                out[name][kind] = summary
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
    totals = store.account_totals_in_windows(session, account_id, window_starts(at), at)
    first_seen, last_seen = store.first_and_last_seen(session, account_id)
    return features_of(account_id, at, types, totals, first_seen, last_seen, population, created_at)


def features_of(
    account_id: str,
    at: datetime,
    types: Iterable[str],
    totals: list[tuple[str, list[tuple[int, float]]]],
    first_seen: datetime | None,
    last_seen: datetime | None,
    population: dict[str, dict[str, Any]] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The features as a plain dict, from each type's (count, sum) per window: every
    configured type is present in every window, an account's age comes from its profile when
    the platform knows it, else from its first signal."""
    kinds = list(types)
    windows: dict[str, dict[str, dict[str, float]]] = {
        name: {kind: {"count": 0, "sum": 0.0} for kind in kinds} for name in WINDOWS
    }
    for kind, per_window in totals:
        for name, (count, total) in zip(WINDOWS, per_window, strict=True):
            windows[name][kind] = {"count": count, "sum": total}
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

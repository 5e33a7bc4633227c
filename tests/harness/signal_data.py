"""Signal histories the stories share: four weeks of reports with a weekly rhythm, a broken
login service, and a scam wave nobody reported before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.harness.vigil import Vigil
from tests.harness.world import MONDAY

WEEKS = 4
START = MONDAY - timedelta(weeks=WEEKS)  # four full weeks of history before this Monday 10:00
PNG = b"\x89PNG\r\n\x1a\n"


def hourly(at: datetime) -> int:
    """Reports per hour: about ten, and three times that every Monday at 09:00."""
    if at.weekday() == 0 and at.hour == 9:
        return 30
    return 10 + (at.hour % 3)


def history(weeks: int = WEEKS, logins: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    at = MONDAY - timedelta(weeks=weeks)
    while at < MONDAY:
        for n in range(hourly(at)):
            rows.append(
                {
                    "type": "report",
                    "account_id": f"acct_{n % 9}",
                    "occurred_at": (at + timedelta(minutes=n)).isoformat(),
                    "attributes": {"reason": "spam" if n % 5 < 3 else "harassment", "country": "US"},
                }
            )
        # Logins run at 30 an hour, except this Monday 09:00: the login service broke.
        if logins and at != MONDAY - timedelta(hours=1):
            rows += [
                {
                    "type": "login",
                    "account_id": f"acct_{n}",
                    "occurred_at": (at + timedelta(minutes=n)).isoformat(),
                }
                for n in range(30)
            ]
        at += timedelta(hours=1)
    return rows


def load(vigil: Vigil, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 10_000):
        vigil.ctx.signals.ingest(rows[start : start + 10_000])


def scam_wave(hour: datetime, count: int = 60) -> list[dict[str, Any]]:
    return [
        {
            "type": "report",
            "account_id": "acct_scammer_1" if n % 4 else "acct_scammer_2",
            "occurred_at": (hour + timedelta(seconds=30 * n)).isoformat(),
            "attributes": {"reason": "crypto_giveaway", "country": "US"},
        }
        for n in range(count)
    ]



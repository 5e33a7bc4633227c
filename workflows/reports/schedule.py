"""When each scheduled post falls due and which period it reports on.

The weekly digest and the investigation review go out on the configured weekday and time and
cover the last full ISO week; the shift summary goes out every day at the shift time and
reports on the day before (plus the queue as it is now). Times are local to the config's
timezone, so a schedule keeps its wall-clock time across DST.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.config import Digest
from workflows.periods import Period, day_of, last_full_week, parse_period

WEEKLY, REVIEW, SHIFT = "weekly", "investigations", "shift"
DIGESTS = (WEEKLY, REVIEW, SHIFT)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def latest_schedule(digest: str, now: datetime, schedule: Digest, tz: ZoneInfo) -> datetime:
    """The latest scheduled local time of ``digest`` at or before ``now``."""
    local_now = now.astimezone(tz)
    if digest == SHIFT:
        hour, minute = _hhmm(schedule.shift_time)
        weekday = None
    else:
        hour, minute = schedule.hour, schedule.minute
        weekday = WEEKDAYS.index(schedule.weekday)
    day = local_now.date()
    for back in range(8):
        candidate_day = day - timedelta(days=back)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = datetime(
            candidate_day.year, candidate_day.month, candidate_day.day, hour, minute, tzinfo=tz
        )
        if candidate <= local_now:
            return candidate
    raise AssertionError("a weekly schedule always fires within 8 days")


def due_period(digest: str, now: datetime, schedule: Digest, tz: ZoneInfo) -> Period:
    """The period the latest scheduled run (at or before ``now``) is for."""
    at = latest_schedule(digest, now, schedule, tz)
    if digest == SHIFT:
        return day_of(at.date(), tz)
    return last_full_week(at, tz)


def period_of(digest: str, name: str, now: datetime, tz: ZoneInfo) -> Period:
    """A period a person named for ``digest``; PeriodError or ValueError say what is wrong."""
    period = parse_period(name, now, tz)
    expected = "day" if digest == SHIFT else "week"
    if period.kind != expected:
        raise ValueError(f"the {digest} digest is per {expected}, not {period.kind} ({name})")
    return period


def covered_until(digest: str, period: Period) -> datetime:
    """The end of what a post reports on: its week for the digest and the review; for the
    shift summary, the day before (its post shows that day and the queue as it is now)."""
    return period.start if digest == SHIFT else period.full_end


def _hhmm(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)

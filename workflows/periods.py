"""Report periods: ISO weeks, calendar months and days in the config's timezone.

A period is a pair of UTC instants computed from local midnights, so a week across a DST
change has 167 or 169 hours and the database only ever compares UTC timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["week", "month", "day"]
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PeriodError(ValueError):
    """A period the person typed that Vigil cannot use; the message says what to type."""


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


@dataclass(frozen=True)
class Period:
    kind: Kind
    name: str  # 2026-W46, 2026-11, 2026-11-23
    first_day: date  # local
    days: int  # local days in the full period
    tz: ZoneInfo
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the full end, or "now" for the current period
    full_end: datetime

    @property
    def partial(self) -> bool:
        return self.end < self.full_end

    @property
    def hours(self) -> float:
        return (self.full_end - self.start).total_seconds() / 3600

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def label(self) -> str:
        if self.kind == "day":
            text = f"{self.first_day:%a %-d %b %Y}"
        elif self.kind == "month":
            text = f"{self.first_day:%B %Y}"
        else:
            first, last = self.first_day, self.last_day
            head = f"{first:%-d}" if first.month == last.month else f"{first:%-d %b}"
            text = f"{self.name} ({head}-{last:%-d %b %Y})"
        return text + (" · partial" if self.partial else "")

    def day_bounds(self) -> list[datetime]:
        """Local midnights from the first day to the day after the last, in UTC."""
        return [local_midnight(self.first_day + timedelta(days=i), self.tz) for i in range(self.days + 1)]

    def previous(self) -> Period:
        """The period before; for a partial period, the same elapsed stretch of it (a fair comparison)."""
        if self.kind == "week":
            before = week_of(self.first_day - timedelta(days=7), self.tz)
        elif self.kind == "month":
            before = month_of(self.first_day - timedelta(days=1), self.tz)
        else:
            before = day_of(self.first_day - timedelta(days=1), self.tz)
        if not self.partial:
            return before
        end = min(before.full_end, before.start + (self.end - self.start))
        return _with_end(before, end)

    def shifted_weeks(self, weeks: int) -> Period:
        return week_of(self.first_day + timedelta(days=7 * weeks), self.tz)


def _with_end(period: Period, end: datetime) -> Period:
    return Period(
        period.kind,
        period.name,
        period.first_day,
        period.days,
        period.tz,
        period.start,
        end,
        period.full_end,
    )


def _clamped(period: Period, now: datetime | None) -> Period:
    if now is not None and period.start <= now < period.full_end:
        return _with_end(period, now)
    return period


def week_of(day: date, tz: ZoneInfo, now: datetime | None = None) -> Period:
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    start, end = local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)
    period = Period("week", f"{year}-W{week:02d}", monday, 7, tz, start, end, end)
    return _clamped(period, now)


def month_of(day: date, tz: ZoneInfo, now: datetime | None = None) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start, end = local_midnight(first, tz), local_midnight(following, tz)
    period = Period("month", f"{first:%Y-%m}", first, (following - first).days, tz, start, end, end)
    return _clamped(period, now)


def day_of(day: date, tz: ZoneInfo, now: datetime | None = None) -> Period:
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    return _clamped(Period("day", day.isoformat(), day, 1, tz, start, end, end), now)


def last_full_week(now: datetime, tz: ZoneInfo) -> Period:
    return week_of(local_date(now, tz) - timedelta(days=7), tz)


def current_week(now: datetime, tz: ZoneInfo) -> Period:
    return week_of(local_date(now, tz), tz, now)


def current_month(now: datetime, tz: ZoneInfo) -> Period:
    return month_of(local_date(now, tz), tz, now)


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """``2026-W46``, ``2026-11`` or ``2026-11-23``; a future period is refused, the current
    one is clamped to now (partial)."""
    value = text.strip()
    week = _WEEK.match(value)
    month = _MONTH.match(value)
    try:
        if week:
            period = week_of(date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1), tz, now)
        elif month:
            period = month_of(date(int(month.group(1)), int(month.group(2)), 1), tz, now)
        elif _DAY.match(value):
            period = day_of(date.fromisoformat(value), tz, now)
        else:
            raise PeriodError(f"{value!r} is not a period: use an ISO week like 2026-W46")
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"{value!r} is not a real week, month or day ({exc})") from None
    if period.start > now:
        raise PeriodError(f"{period.name} has not started yet")
    return period

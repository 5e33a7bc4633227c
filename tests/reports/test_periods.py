"""Period arithmetic, fast and without a database: ISO weeks in the team's timezone, days
that DST makes 23 or 25 hours long, the partial current week, and when each post falls due."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.config import Digest
from workflows.periods import (
    PeriodError,
    current_month,
    current_week,
    day_of,
    last_full_week,
    month_of,
    parse_period,
    week_of,
)
from workflows.reports import REVIEW, SHIFT, WEEKLY, covered_until
from workflows.reports.schedule import due_period, latest_schedule, period_of

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2027, 6, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_iso_week_belongs_to_the_year_of_its_thursday() -> None:
    new_year = week_of(date(2027, 1, 1), BERLIN)  # a Friday: still 2026's last week
    assert (new_year.name, new_year.first_day, new_year.last_day) == (
        "2026-W53",
        date(2026, 12, 28),
        date(2027, 1, 3),
    )
    assert parse_period("2026-W53", NOW, BERLIN) == new_year
    assert week_of(date(2025, 12, 29), BERLIN).name == "2026-W01"  # a Monday in December
    assert new_year.label == "2026-W53 (28 Dec-3 Jan 2027)"


def test_a_week_starts_at_local_midnight_so_the_same_instant_is_in_different_weeks() -> None:
    sunday_evening = utc(2026, 11, 22, 16)  # Sunday 17:00 in Berlin, Monday 01:00 in Tokyo
    assert week_of(sunday_evening.astimezone(BERLIN).date(), BERLIN).name == "2026-W47"
    assert week_of(sunday_evening.astimezone(TOKYO).date(), TOKYO).name == "2026-W48"
    assert week_of(date(2026, 11, 23), TOKYO).start == utc(2026, 11, 22, 15)


def test_dst_makes_days_23_or_25_hours_and_weeks_167_or_169() -> None:
    assert day_of(date(2026, 3, 29), BERLIN).hours == 23
    assert day_of(date(2026, 10, 25), BERLIN).hours == 25
    assert day_of(date(2026, 10, 25), TOKYO).hours == 24  # no DST there
    autumn = week_of(date(2026, 10, 21), BERLIN)
    bounds = autumn.day_bounds()
    assert len(bounds) == 8 and bounds[-1] == autumn.end
    assert [b.astimezone(BERLIN).hour for b in bounds] == [0] * 8  # every bound a local midnight
    assert bounds[-1] - bounds[-2] == timedelta(hours=25)  # Sunday, when the clocks go back


def test_the_current_week_is_partial_and_compared_with_the_same_stretch_of_last_week() -> None:
    wednesday_noon = utc(2026, 11, 25, 11)  # 12:00 in Berlin
    week = current_week(wednesday_noon, BERLIN)
    assert week.partial and week.end == wednesday_noon and week.full_end == utc(2026, 11, 29, 23)
    assert week.label == "2026-W48 (23-29 Nov 2026) · partial"
    before = week.previous()
    assert (before.name, before.start, before.end) == (
        "2026-W47",
        utc(2026, 11, 15, 23),
        utc(2026, 11, 18, 11),
    )
    assert not last_full_week(wednesday_noon, BERLIN).partial
    assert last_full_week(wednesday_noon, BERLIN).previous().name == "2026-W46"


def test_months_and_days_and_what_cannot_be_a_period() -> None:
    february = month_of(date(2026, 2, 14), BERLIN)
    assert (february.name, february.days, february.label) == ("2026-02", 28, "February 2026")
    assert february.previous().name == "2026-01"
    month = current_month(utc(2026, 11, 25, 11), BERLIN)
    assert month.partial and month.previous().end - month.previous().start == month.end - month.start
    assert parse_period("2026-11-23", NOW, BERLIN).label == "Mon 23 Nov 2026"
    for bad, says in (
        ("2026-13", "not a real week, month or day"),
        ("2026-02-30", "not a real week, month or day"),
        ("W47", "not a period"),
        ("2027-07", "has not started yet"),
    ):
        with pytest.raises(PeriodError, match=says):
            parse_period(bad, NOW, BERLIN)


def test_the_shift_summary_is_due_from_the_shift_time_and_covers_the_day_before() -> None:
    shift = Digest(shift_time="08:00")
    before_shift = utc(2026, 11, 24, 6, 59)  # 07:59 in Berlin
    at_shift = utc(2026, 11, 24, 7, 0)
    assert latest_schedule(SHIFT, before_shift, shift, BERLIN) == datetime(2026, 11, 23, 8, tzinfo=BERLIN)
    assert due_period(SHIFT, before_shift, shift, BERLIN).name == "2026-11-23"
    today = due_period(SHIFT, at_shift, shift, BERLIN)
    assert today.name == "2026-11-24"
    assert covered_until(SHIFT, today) == today.start  # it reports on yesterday
    # On the day the clocks go back, 08:00 is still 08:00 local.
    assert latest_schedule(SHIFT, utc(2026, 10, 25, 7, 0), shift, BERLIN).astimezone(UTC) == utc(
        2026, 10, 25, 7
    )
    assert due_period(SHIFT, utc(2026, 10, 25, 6, 59), shift, BERLIN).name == "2026-10-24"


def test_the_weekly_posts_are_due_on_their_weekday_and_cover_the_last_full_week() -> None:
    monday_nine = Digest(weekday="mon", time="09:00")
    just_before = utc(2026, 11, 23, 7, 59)  # Monday 08:59 in Berlin: last Monday's run is the latest
    assert latest_schedule(WEEKLY, just_before, monday_nine, BERLIN) == datetime(
        2026, 11, 16, 9, tzinfo=BERLIN
    )
    assert due_period(WEEKLY, just_before, monday_nine, BERLIN).name == "2026-W46"
    week = due_period(REVIEW, utc(2026, 11, 23, 8), monday_nine, BERLIN)
    assert week.name == "2026-W47" and covered_until(REVIEW, week) == week.full_end
    assert period_of(WEEKLY, "2026-W47", NOW, BERLIN).kind == "week"
    with pytest.raises(ValueError, match="the weekly digest is per week, not day"):
        period_of(WEEKLY, "2026-11-23", NOW, BERLIN)
    with pytest.raises(ValueError, match="the shift digest is per day, not week"):
        period_of(SHIFT, "2026-W47", NOW, BERLIN)

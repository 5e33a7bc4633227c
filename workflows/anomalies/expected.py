"""Expected events: the days (public holidays of configured countries, named dates) on which a
series is expected to look unusual. Hours on such a day are still judged, but flagged only
far beyond the usual threshold, and the finding carries the day's name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from workflows.config import CalendarSettings


@lru_cache(maxsize=256)
def _country_days(country: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year).items())


class Calendar:
    """Which local day an hour falls on (the config's timezone) and whether it is expected."""

    def __init__(self, settings: CalendarSettings, tz: ZoneInfo) -> None:
        self.settings = settings
        self.tz = tz
        self._labels: dict[date, str | None] = {}

    @property
    def empty(self) -> bool:
        return not (self.settings.countries or self.settings.dates)

    def label(self, hour: datetime) -> str | None:
        """The expected event of the local day of this (UTC) hour, or None."""
        if self.empty:
            return None
        aware = hour if hour.tzinfo else hour.replace(tzinfo=UTC)  # the store's hours are UTC
        day = aware.astimezone(self.tz).date()
        if day not in self._labels:
            self._labels[day] = self._label_of(day)
        return self._labels[day]

    def _label_of(self, day: date) -> str | None:
        named = self.settings.dates.get(day)
        if named:
            return named
        names = [
            f"{name} ({country})" if len(self.settings.countries) > 1 else name
            for country in self.settings.countries
            if (name := _country_days(country, day.year).get(day))
        ]
        return "; ".join(names) or None

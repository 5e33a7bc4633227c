"""The detector over weeks of history: a team's channel hears about what changed, not about
every hour of a new normal; a holiday is expected; volume does not change a verdict."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.anomalies.series import HOUR, OVERALL, START, counts
from tests.harness.world import config_data
from workflows.anomalies.backtest import replay
from workflows.anomalies.detect import Detector
from workflows.anomalies.episodes import incidents
from workflows.config import ConfigError, VigilConfig, parse_config

WEEKS = 7
JUDGED_FROM = START + timedelta(weeks=4)
UNTIL = START + timedelta(weeks=WEEKS)


def config(**anomalies: object) -> VigilConfig:
    data = config_data()
    data["signals"] = {"anomalies": anomalies}
    return parse_config(data)


def verdicts(series: dict[datetime, float], cfg: VigilConfig) -> list[tuple[datetime, str]]:
    detector = Detector({OVERALL: series}, {"report": START}, cfg)
    found = []
    hour = JUDGED_FROM
    while hour < UNTIL:
        found += [(hour, f.kind) for f in detector.judge(hour)]
        hour += HOUR
    return found


def test_a_quiet_rhythm_with_bursty_noise_raises_nothing() -> None:
    assert verdicts(counts(WEEKS), config()) == []


def test_a_level_shift_stops_alerting_within_two_days_but_a_spike_on_top_still_alerts() -> None:
    shift = JUDGED_FROM + timedelta(days=3, hours=8)  # a Thursday: +60% for good
    spike = shift + timedelta(days=5, hours=6)  # four hours of three times the new normal

    def factor(at: datetime) -> float:
        base = 1.6 if at >= shift else 1.0
        return base * (3.0 if spike <= at < spike + 4 * HOUR else 1.0)

    found = verdicts(counts(WEEKS, factor=factor), config())
    before_shift = [h for h, _ in found if h < shift]
    assert before_shift == []
    shift_alerts = [h for h, kind in found if shift <= h < spike]
    assert all(h < shift + timedelta(days=2) for h in shift_alerts), shift_alerts
    assert {h for h, kind in found if kind == "spike" and spike <= h < spike + 4 * HOUR}
    after = [h for h, _ in found if h >= spike + 4 * HOUR + 3 * HOUR]
    assert after == []


def test_a_hundred_times_the_counts_gives_the_same_verdicts() -> None:
    spike, outage = JUDGED_FROM + timedelta(days=2, hours=14), JUDGED_FROM + timedelta(days=9, hours=11)

    def factor(at: datetime) -> float:
        if spike <= at < spike + 2 * HOUR:
            return 2.5
        return 0.2 if outage <= at < outage + 3 * HOUR else 1.0

    small = verdicts(counts(WEEKS, factor=factor), config(min_count=10, min_drop_baseline=20))
    big = verdicts(
        counts(WEEKS, factor=factor, scale=100),
        config(min_count=1000, min_drop_baseline=2000),
    )
    assert small == big
    assert {kind for _, kind in small} == {"spike", "drop"}


def test_an_expected_holiday_is_judged_quietly_and_labelled() -> None:
    thanksgiving = date(2026, 10, 12)  # Columbus Day, a US public holiday in the judged weeks
    spike = datetime(2026, 10, 12, 15, tzinfo=START.tzinfo)

    def factor(at: datetime) -> float:
        if at.date() != thanksgiving:
            return 1.0
        return 15.0 if spike <= at < spike + 2 * HOUR else 0.3  # a quiet day, and a wave on it

    history = counts(WEEKS, factor=factor)
    plain = verdicts(history, config())
    assert [h for h, kind in plain if kind == "drop" and h.date() == thanksgiving]  # noisy without a calendar
    data = config_data()
    data["signals"] = {"calendar": {"countries": ["us"], "dates": {"2026-10-30": "Halloween sale"}}}
    cfg = parse_config(data)
    detector = Detector({OVERALL: history}, {"report": START}, cfg)
    on_the_day = [
        f for h in range(24) for f in detector.judge(datetime(2026, 10, 12, h, tzinfo=START.tzinfo))
    ]
    assert [(f.kind, f.expected) for f in on_the_day] == [("spike", "Columbus Day")] * 2
    assert on_the_day[0].score >= 2 * 4.0  # flagged only twice as far out as on other days
    _hours, found = replay({OVERALL: history}, {"report": START}, cfg, JUDGED_FROM, UNTIL)
    assert [(i.kind, i.start, i.end, i.expected) for i in found] == [
        ("spike", spike, spike + HOUR, "Columbus Day")
    ]
    assert detector.calendar.label(datetime(2026, 10, 30, 12, tzinfo=START.tzinfo)) == "Halloween sale"


def test_the_calendar_names_only_known_countries() -> None:
    data = config_data()
    data["signals"] = {"calendar": {"countries": ["XX"], "expected": "loud"}}
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert "unknown holiday countries" in str(error.value) and "expected" in str(error.value)


def test_hours_close_together_are_one_incident() -> None:
    spike = JUDGED_FROM + timedelta(days=4, hours=13)

    def factor(at: datetime) -> float:
        # 13:00 and 14:00, a quiet hour, 16:00 (one episode); 22:00, after five quiet hours (another)
        return 4.0 if at in {spike, spike + HOUR, spike + 3 * HOUR, spike + 9 * HOUR} else 1.0

    history = counts(WEEKS, factor=factor)
    found = [
        (h, f)
        for h in (spike + HOUR * k for k in range(12))
        for f in Detector({OVERALL: history}, {"report": START}, config()).judge(h)
    ]
    assert [h for h, _ in found] == [spike, spike + HOUR, spike + 3 * HOUR, spike + 9 * HOUR]
    episodes = incidents(found, timedelta(hours=3))
    assert [(i.start, i.end, i.hours) for i in episodes] == [
        (spike, spike + 3 * HOUR, 3),
        (spike + 9 * HOUR, spike + 9 * HOUR, 1),
    ]
    assert episodes[0].peak_score == max(f.score for _, f in found[:3])
    assert len(incidents(found, timedelta(0))) == 3  # without a merge_gap a quiet hour splits them

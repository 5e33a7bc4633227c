"""The arithmetic on top of the store's figures, fast and without a database: changes and
percentages as the digest prints them, volume lines, SLA lines, rule shifts, the 8-week span."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from commands.blocks.reports import change, duration, pct
from store.reports import Percentiles, Reversals, RuleHitRow, SlaRow
from workflows.periods import month_of, week_of
from workflows.reports import Change
from workflows.reports.build import TREND_WEEKS, rule_hits_of, sla_lines, trend_span, volume_of

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_change_against_nothing_has_no_percentage() -> None:
    assert (Change(6, 2).delta, Change(6, 2).ratio) == (4, 2.0)
    assert Change(0, 5).ratio == -1.0
    assert Change(3, 0).ratio is None and Change(0, 0).ratio is None
    assert change(Change(6, 2)) == "6 (▲ 4, +200% vs last week)"
    assert change(Change(1, 4), "last month") == "1 (▼ 3, -75% vs last month)"
    assert change(Change(3, 0)) == "3 (▲ 3 vs last week)"
    assert change(Change(5, 5)) == "5 (= no change, +0% vs last week)"
    assert change(Change(0, 0)) == "0"
    assert change(Change(12_000, 10_000)) == "12,000 (▲ 2,000, +20% vs last week)"


def test_rates_say_dash_when_there_is_nothing_to_divide() -> None:
    assert pct(None) == "-" and pct(2 / 3) == "67%" and pct(1.0) == "100%"
    assert Reversals(0, 0).rate is None and Reversals(14, 1).rate == 1 / 14
    assert duration(None) == "-" and duration(59.4) == "59s" and duration(3 * 3600 + 5 * 60) == "3h 05m"
    assert duration(2 * 86400 + 7 * 3600) == "2d 7h"


def test_volume_lines_put_the_busiest_first_and_drop_what_was_never_there() -> None:
    volume = volume_of(
        {
            ("host_report", "channel"): (1, 1),
            ("user_report", "shortcut"): (1, 0),
            ("cx_escalation", "channel"): (0, 1),
            ("other", "channel"): (0, 0),
            ("host_report", "shortcut"): (2, 0),
        }
    )
    assert (volume.total.current, volume.total.previous) == (4, 2)
    assert [(v.key, v.change.current, v.change.previous) for v in volume.by_category] == [
        ("host_report", 3, 1),
        ("user_report", 1, 0),
        ("cx_escalation", 0, 1),
    ]
    assert [(v.label, v.change.current) for v in volume.by_source] == [
        ("Message shortcut", 3),
        ("Escalation channels", 1),
    ]
    assert volume.by_category[0].label == "Host report"
    assert volume_of({}).total == Change(0, 0) and volume_of({}).by_category == []


def test_sla_lines_cover_every_priority_and_the_total() -> None:
    claim = {"P1": Percentiles(4, 600.0, 2400.0), "all": Percentiles(5, 600.0, 2400.0)}
    lines = sla_lines({"P1": SlaRow(4, 2), "P3": SlaRow(1, 1)}, claim, {})
    assert [line.priority for line in lines] == ["P1", "P2", "P3", "P4", "all"]
    assert [(line.due, line.met) for line in lines] == [(4, 2), (0, 0), (1, 1), (0, 0), (5, 3)]
    assert lines[0].attainment == 0.5 and lines[1].attainment is None and lines[-1].attainment == 0.6
    assert lines[-1].claim == claim["all"] and lines[-1].resolve == Percentiles(0, None, None)


def test_a_rule_shift_is_a_big_move_either_way() -> None:
    hits = rule_hits_of(
        [
            RuleHitRow("crypto_scam", 12, 0, 2),  # +10, and more than half of 2: a shift
            RuleHitRow("spam_words", 0, 3, 3),  # steady
            RuleHitRow("old_rule", 0, 0, 20),  # went silent: a shift too
            RuleHitRow("busy_rule", 110, 0, 100),  # +10 but only a tenth of 100: noise
        ]
    )
    assert hits.top == [("busy_rule", 110, 0), ("crypto_scam", 12, 0), ("spam_words", 0, 3)]
    assert [(s.rule_id, s.previous, s.current) for s in hits.shifts] == [
        ("old_rule", 20, 0),
        ("crypto_scam", 2, 12),
    ]
    assert hits.total == 125
    many = rule_hits_of([RuleHitRow(f"r{i}", i + 1, 0, 0) for i in range(20)])
    assert len(many.top) == 5 and many.top[0] == ("r19", 20, 0) and many.total == 210


def test_the_trend_charts_span_eight_iso_weeks_to_the_period() -> None:
    week = week_of(date(2026, 10, 21), BERLIN)
    span, weeks = trend_span(week)
    assert len(weeks) == TREND_WEEKS and (weeks[0].name, weeks[-1].name) == ("2026-W36", "2026-W43")
    assert (span.first_day, span.days, span.end) == (date(2026, 8, 31), 56, week.end)
    assert len(span.day_bounds()) == 57  # DST week included: bounds are local midnights
    month = month_of(date(2026, 11, 1), BERLIN)
    _, month_weeks = trend_span(month)
    assert month_weeks[-1].name == week_of(date(2026, 11, 1), BERLIN).name  # the week of its first day

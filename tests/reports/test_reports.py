"""The weekly review's figures, on a week whose answers are known by hand: 2026-W43 in
Berlin, the week the clocks go back (169 hours), with cases on both sides of its edges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.blocks.reports import as_text, digest_blocks, shift_blocks
from store.db import Database
from tests.harness.report_data import add_case, add_hits, add_request, reports_over
from tests.harness.slack_limits import assert_within_limits
from tests.harness.world import config_data
from workflows.clock import FixedClock
from workflows.config import VigilConfig, parse_config
from workflows.periods import (
    PeriodError,
    current_week,
    day_of,
    last_full_week,
    parse_period,
    week_of,
)
from workflows.reports import (
    AbusePattern,
    InvestigationWeek,
    OpenInvestigation,
    ReportSources,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
M = timedelta(minutes=1)
# Monday 2 November 2026, 10:00 in Berlin: W43 and W44 are over.
LATER = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def berlin() -> VigilConfig:
    return parse_config({**config_data(), "timezone": "Europe/Berlin"})


def test_iso_weeks_follow_the_local_calendar_across_dst() -> None:
    autumn = parse_period("2026-W43", LATER, BERLIN)
    assert (autumn.start, autumn.end, autumn.hours) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 169)
    spring = parse_period("2026-W13", LATER, BERLIN)
    assert (spring.start, spring.end, spring.hours) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167)
    new_york = parse_period("2026-W44", LATER, NEW_YORK)  # 1 November: New York falls back
    assert (new_york.start, new_york.hours) == (utc(2026, 10, 26, 4), 169)
    # Sunday 23:30 UTC is already Monday in Berlin: the last full week is the one before.
    assert last_full_week(utc(2026, 11, 1, 23, 30), BERLIN).name == "2026-W44"
    assert last_full_week(utc(2026, 11, 1, 22, 30), BERLIN).name == "2026-W43"
    now = current_week(utc(2026, 11, 4, 12), BERLIN)
    assert now.partial and now.end == utc(2026, 11, 4, 12) and "partial" in now.label
    assert now.previous().end - now.previous().start == now.end - now.start
    assert day_of(now.first_day, BERLIN).hours == 24
    assert week_of(now.first_day, BERLIN).name == "2026-W45"
    for bad, says in (
        ("2026-W60", "not a real week"),
        ("next week", "ISO week like 2026-W46"),
        ("2027-W02", "has not started"),
    ):
        with pytest.raises(PeriodError, match=says):
            parse_period(bad, LATER, BERLIN)


def build_w43(db: Database, config: VigilConfig) -> None:
    """The week, by hand. Comments give each row's local time and what it must count as."""
    with db.transaction() as s:
        # W43 starts Mon 19 Oct 00:00 CEST = Sun 18 Oct 22:00 UTC.
        add_case(
            s,
            config,
            utc(2026, 10, 18, 22, 30),  # Mon 00:30 CEST: in W43 although its UTC date is Sunday
            category="host_report",
            priority="P2",
            claimed_after=10 * M,
            resolved_after=120 * M,
        )
        add_case(
            s,
            config,
            utc(2026, 10, 25, 22, 30),  # Sun 23:30 CET, after the clocks went back: still W43
            category="user_report",
            priority="P3",
            source="shortcut",
        )
        for claim, resolve in ((5, 30), (10, 50), (20, 70), (40, 120)):  # P1 SLA 1h: two met, two missed
            add_case(
                s,
                config,
                utc(2026, 10, 21, 10),
                category="suspension_request",
                priority="P1",
                claimed_after=claim * M,
                resolved_after=resolve * M,
            )
        # Sun 18 Oct 23:59 CEST: W42. Its SLA (4h) falls due in W43, and it was resolved in W43.
        add_case(
            s, config, utc(2026, 10, 18, 21, 59), category="host_report", priority="P2", resolved_after=59 * M
        )
        add_case(s, config, utc(2026, 10, 14, 9), category="cx_escalation", resolved_after=60 * M)  # W42
        add_case(s, config, utc(2026, 10, 25, 23), category="host_report")  # Mon 26 Oct 00:00 CET: W44
        add_case(s, config, utc(2026, 10, 10, 9), priority="P4", claimed_after=M)  # W41, still open

        # Enforcement: 2 suspensions done and 1 failed; a bulk run of 12; a rejected request;
        # one reinstatement that reverses one of this week's suspensions.
        _, small = add_request(
            s,
            "suspend",
            ["acct_1", "acct_2", "acct_3"],
            utc(2026, 10, 20, 9),
            results=["done", "done", "failed"],
            finished=utc(2026, 10, 20, 9, 10),
        )
        add_request(
            s,
            "suspend",
            [f"bulk_{i}" for i in range(12)],
            utc(2026, 10, 22, 9),
            finished=utc(2026, 10, 22, 10),
        )
        add_request(s, "suspend", ["acct_9"], utc(2026, 10, 23, 9), status="rejected", results=["cancelled"])
        add_request(
            s,
            "reinstate",
            ["acct_1"],
            utc(2026, 10, 24, 9),
            finished=utc(2026, 10, 24, 9, 5),
            reverses={"acct_1": small[0].id},
        )
        add_request(s, "suspend", ["late_1"], utc(2026, 10, 26, 9), finished=utc(2026, 10, 26, 9))  # W44

        add_hits(s, "crypto_scam", utc(2026, 10, 21, 8), 12)
        add_hits(s, "crypto_scam", utc(2026, 10, 14, 8), 2)
        add_hits(s, "spam_words", utc(2026, 10, 21, 8), 3, mode="shadow")
        add_hits(s, "spam_words", utc(2026, 10, 14, 8), 3, mode="shadow")
        add_hits(s, "old_rule", utc(2026, 10, 14, 8), 20)  # went silent: a shift too


def test_the_weekly_digest_counts_a_hand_built_week(db: Database, berlin: VigilConfig) -> None:
    build_w43(db, berlin)
    reports = reports_over(db, FixedClock(LATER), berlin)
    report = reports.digest(parse_period("2026-W43", LATER, BERLIN))

    assert report.period.hours == 169 and report.previous.name == "2026-W42"
    volume = report.volume
    assert (volume.total.current, volume.total.previous) == (6, 2)
    assert {v.key: (v.change.current, v.change.previous) for v in volume.by_category} == {
        "suspension_request": (4, 0),
        "host_report": (1, 1),
        "user_report": (1, 0),
        "cx_escalation": (0, 1),
    }
    assert {v.key: v.change.current for v in volume.by_source} == {"channel": 5, "shortcut": 1}

    sla = {line.priority: line for line in report.sla}
    assert (sla["P1"].due, sla["P1"].met, sla["P1"].attainment) == (4, 2, 0.5)
    assert (sla["P2"].due, sla["P2"].met) == (2, 2)  # W43's own, and W42's late-Sunday case
    assert (sla["P3"].due, sla["all"].due, sla["all"].met) == (0, 6, 4)  # Sunday's P3 is due in W44
    minutes = lambda p: (p.count, p.p50 and round(p.p50 / 60), p.p90 and round(p.p90 / 60))  # noqa: E731
    assert minutes(sla["P1"].claim) == (4, 10, 40)
    assert minutes(sla["P1"].resolve) == (4, 50, 120)
    assert minutes(sla["P2"].resolve) == (2, 59, 120)
    assert minutes(sla["all"].claim) == (5, 10, 40)
    assert minutes(sla["all"].resolve) == (6, 59, 120)

    backlog = report.backlog  # at Mon 26 Oct 00:00 CET
    assert (backlog.open, backlog.unclaimed, backlog.breached) == (2, 1, 1)
    assert backlog.age_buckets == {"<1d": 1, "1-3d": 0, "3-7d": 0, ">7d": 1}
    assert backlog.oldest == utc(2026, 10, 10, 9)

    enforcement = report.enforcement.week
    assert (enforcement.suspensions, enforcement.reinstatements, enforcement.failed) == (14, 1, 1)
    assert (enforcement.bulk_runs, enforcement.bulk_accounts, enforcement.rejected) == (1, 12, 1)
    assert enforcement.requests == {"suspend": 3, "reinstate": 1}
    reversals = report.enforcement.reversals
    assert (reversals.suspended, reversals.reversed) == (14, 1)

    assert report.rules.top == [("crypto_scam", 12, 0), ("spam_words", 0, 3)]
    assert {(s.rule_id, s.previous, s.current) for s in report.rules.shifts} == {
        ("old_rule", 20, 0),
        ("crypto_scam", 2, 12),
    }
    assert report.investigations is None and report.anomalies is None and report.patterns is None

    charts = report.charts  # 8 weeks of Berlin days: W36 … W43
    assert charts.weeks[0] == "2026-W36" and charts.weeks[-1] == "2026-W43" and len(charts.days) == 56
    sunday = charts.days.index(datetime(2026, 10, 25).date())
    monday = charts.days.index(datetime(2026, 10, 19).date())
    assert charts.daily["user_report"][sunday] == 1 and charts.daily["host_report"][monday] == 1
    assert sum(sum(v) for v in charts.daily.values()) == 9  # everything but W44's
    assert charts.sla_due[-1] == 6 and charts.sla_attainment[-1] == pytest.approx(4 / 6)


def test_the_digest_renders_within_slacks_limits_and_says_what_is_missing(
    db: Database, berlin: VigilConfig
) -> None:
    build_w43(db, berlin)
    report = reports_over(db, FixedClock(LATER), berlin).digest(parse_period("2026-W43", LATER, BERLIN))
    text, blocks = digest_blocks(report)
    assert "2026-W43" in text and "67%" in text
    assert_within_limits(blocks)
    shown = json.dumps(blocks, ensure_ascii=False)
    for expected in (
        "6 (▲ 4, +200% vs last week)",
        "4 of 6 met (67%)",
        "claim median 10m, p90 40m",
        "No investigations recorded this week.",
        "No anomalies recorded this week.",
        "AI summaries are not configured",
        "crypto_scam",
        "169 h",
        "Europe/Berlin",
    ):
        assert expected in shown, expected
    plain = as_text(blocks)
    assert "*" not in plain and "Weekly T&S digest · 2026-W43 (19-25 Oct 2026)" in plain


class BusyInvestigations:
    """Investigations as the investigations capability will report them, with hostile titles."""

    def week(self, session, start, end) -> InvestigationWeek:
        return InvestigationWeek(
            opened=40,
            closed=31,
            outcomes={"abuse_confirmed": 22, "legitimate_outlier": 9},
            open_now=250,
            oldest_open=[
                OpenInvestigation(f"INV-{i}", "<!channel> " + "x" * 400, "U0ANA0001", utc(2026, 9, 1))
                for i in range(200)
            ],
        )


class ChattyPatterns:
    def top(self, session, start, end, limit):
        return [AbusePattern("<!here> gift cards " * 30, "s" * 5000, 1200, "rising") for _ in range(limit)]


def test_a_huge_week_still_fits_and_user_text_cannot_ping(db: Database, berlin: VigilConfig) -> None:
    with db.transaction() as s:
        for i in range(30):
            add_case(s, berlin, utc(2026, 10, 20, 9) + i * M, category="other")
            add_hits(s, f"rule_{i:02d}_" + "r" * 40, utc(2026, 10, 20, 9), 15 + i)
    sources = ReportSources(investigations=BusyInvestigations(), patterns=ChattyPatterns())
    report = reports_over(db, FixedClock(LATER), berlin, sources).digest(
        parse_period("2026-W43", LATER, BERLIN)
    )
    _, blocks = digest_blocks(report)
    assert_within_limits(blocks)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in shown and "<!here>" not in shown and "&lt;!channel&gt;" in shown
    assert "22 abuse confirmed" not in shown and "abuse confirmed 22, legitimate outlier 9" in shown
    assert "and 192 open" in shown  # the list is cut, and says so


def test_the_shift_summary_shows_the_queue_and_yesterday(db: Database, berlin: VigilConfig) -> None:
    now = utc(2026, 10, 22, 6)  # Thu 08:00 CEST
    with db.transaction() as s:
        add_case(s, berlin, now - 50 * M, priority="P1")  # 50 of 60 min gone: at risk
        add_case(s, berlin, now - 10 * M, priority="P1")  # fine
        add_case(s, berlin, now - 30 * 60 * M, priority="P3", claimed_after=M)  # breached, claimed
        add_case(s, berlin, utc(2026, 10, 20, 22, 30), category="host_report")  # Wed 00:30 CEST: yesterday
        add_case(s, berlin, utc(2026, 10, 21, 21, 59), category="host_report")  # Wed 23:59 CEST: yesterday
        add_case(s, berlin, utc(2026, 10, 20, 21, 59), category="host_report")  # Tue 23:59 CEST
    reports = reports_over(db, FixedClock(now), berlin)
    today = reports.due_period("shift")
    assert today.name == "2026-10-22"
    report = reports.shift(today)
    # Breached: the 30-hour-old P3 and Tuesday's and Wednesday's first P3 (24h SLA).
    assert (report.queue.unclaimed, report.queue.at_risk, report.queue.breached) == (5, 1, 3)
    assert report.yesterday.name == "2026-10-21"
    lines = {v.key: (v.change.current, v.change.previous) for v in report.yesterday_volume.by_category}
    assert lines["host_report"] == (2, 1)
    _, blocks = shift_blocks(report)
    assert_within_limits(blocks)
    assert "Unclaimed: 5" in json.dumps(
        blocks, ensure_ascii=False
    ) and "SLA at risk (75% elapsed): 1" in json.dumps(blocks, ensure_ascii=False)


def test_a_partial_week_and_a_category_report(db: Database, berlin: VigilConfig) -> None:
    build_w43(db, berlin)
    now = utc(2026, 10, 21, 12)  # Wednesday of W43
    reports = reports_over(db, FixedClock(now), berlin)
    summary = reports.summary(current_week(now, BERLIN), "suspension_request")
    assert summary.period.partial and summary.enforcement is None
    assert summary.volume.total.current == 4
    assert {line.priority: line.due for line in summary.sla}["P1"] == 4  # due by 11:00 UTC, before now
    everything = reports.summary(current_week(now, BERLIN))
    # Sunday's case is not here yet (it is "now" on Wednesday): the week is partial.
    assert everything.volume.total.current == 5 and everything.enforcement is not None

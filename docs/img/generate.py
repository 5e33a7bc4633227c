"""Draws the README's pictures with Vigil's own chart code (bot/charts.py), from a seeded,
made-up eight weeks of a T&S team: `python docs/img/generate.py` rewrites the PNGs here."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.charts import MatplotlibChartRenderer, anomaly_chart
from workflows.anomalies.views import ChartData, ChartPoint
from workflows.periods import week_of
from workflows.reports import DigestChartData

HERE = Path(__file__).resolve().parent
WEEK_END = date(2026, 11, 29)  # the Sunday ending 2026-W48
RATES = {  # cases per weekday (weekends at 60%)
    "user_report": 38,
    "host_report": 21,
    "cx_escalation": 14,
    "suspension_request": 9,
    "reinstatement_request": 5,
    "abuse_inquiry": 4,
    "other": 2,
}


def digest_data(rng: random.Random) -> DigestChartData:
    days = [WEEK_END - timedelta(days=55 - i) for i in range(56)]
    daily: dict[str, list[int]] = {}
    for category, rate in RATES.items():
        counts = []
        for index, day in enumerate(days):
            busy = 0.6 if day.weekday() >= 5 else 1.0
            wave = 1.8 if category == "user_report" and 40 <= index <= 44 else 1.0  # a scam wave
            counts.append(max(0, round(rng.gauss(rate * busy * wave, rate * 0.15))))
        daily[category] = counts
    weeks = [f"2026-W{n}" for n in range(41, 49)]
    attainment: list[float | None] = [0.93, 0.95, 0.91, 0.96, 0.94, 0.81, 0.9, 0.95]
    due = [412, 398, 430, 405, 417, 566, 441, 409]
    return DigestChartData(days=days, daily=daily, weeks=weeks, sla_attainment=attainment, sla_due=due)


def anomaly_data(rng: random.Random) -> ChartData:
    end = datetime(2026, 11, 26, 14, tzinfo=UTC)
    points = []
    for step in range(72):
        at = end - timedelta(hours=71 - step)
        daytime = 1.0 if 8 <= at.hour <= 20 else 0.35
        baseline = 40 * daytime
        observed = baseline + rng.gauss(0, 4)
        if at == end:
            observed = 131  # the planted spike: reports with reason "wire_transfer" from NG
        points.append(ChartPoint(at, max(0.0, round(observed)), baseline))
    return ChartData(title="report · reason=wire_transfer: spike", points=points, highlight=end)


def main() -> None:
    rng = random.Random(18)
    period = week_of(WEEK_END, ZoneInfo("UTC"))
    renderer = MatplotlibChartRenderer()
    data = digest_data(rng)
    for name in ("daily-volume", "sla-trend"):
        chart = renderer.render(name, data, period)
        (HERE / f"digest-{chart.name}.png").write_bytes(chart.png)
    (HERE / "anomaly-alert.png").write_bytes(anomaly_chart(anomaly_data(rng)))


if __name__ == "__main__":
    main()

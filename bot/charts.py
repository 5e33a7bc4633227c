"""Every chart Vigil draws, as PNG bytes: the weekly digest's (the reports' ChartRenderer)
and an anomaly's series against its baseline. Only this module imports matplotlib.

The domain hands over the figures (DigestChartData) and a chart name; the picture is made
here. matplotlib is imported at the first drawing, not with this module: the CLI builds the
Reports service for `digest runs` and `report export` too, which never draw, and must not
pay for loading it. Each figure is its own object and never touches pyplot's global state,
so chart jobs can run in worker threads; a lock covers what matplotlib shares anyway (its
font cache and text layout).
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from workflows.anomalies import ChartData
from workflows.cases import CATEGORIES
from workflows.periods import Period
from workflows.reports import CHART_NAMES, Chart, ChartName, DigestChartData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LOCK = threading.Lock()
TREND_LABEL = "8 weeks"


def _figure() -> Figure:
    from matplotlib.figure import Figure  # the first drawing loads matplotlib (see above)

    return Figure(figsize=(10, 4))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def daily_volume(data: DigestChartData, period: Period) -> Chart:
    figure = _figure()
    axes = figure.subplots()
    x = list(range(len(data.days)))
    bottom = [0] * len(x)
    for category, counts in data.daily.items():
        axes.bar(x, counts, bottom=bottom, label=CATEGORIES.get(category, category), width=0.85)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ticks = list(range(0, len(data.days), 7))
    axes.set_xticks(ticks, [f"{data.days[i]:%d %b}" for i in ticks])
    axes.set_ylabel("cases opened")
    axes.set_title(f"Cases per day by category, {TREND_LABEL} to {period.name}")
    if data.daily:
        axes.legend(fontsize="small", ncols=2, loc="upper left")
    else:
        axes.text(0.5, 0.5, "No cases in these 8 weeks", ha="center", va="center", transform=axes.transAxes)
    axes.grid(axis="y", alpha=0.3)
    return Chart("daily-volume", f"Daily volume by category, 8 weeks to {period.name}", _png(figure))


def sla_trend(data: DigestChartData, period: Period) -> Chart:
    figure = _figure()
    axes = figure.subplots()
    x = list(range(len(data.weeks)))
    points = [(i, v * 100) for i, v in zip(x, data.sla_attainment, strict=True) if v is not None]
    if points:
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o")
        for i, value in points:
            axes.annotate(f"{value:.0f}%", (i, value), textcoords="offset points", xytext=(0, 6), ha="center")
    else:
        axes.text(
            0.5, 0.5, "No SLA came due in these 8 weeks", ha="center", va="center", transform=axes.transAxes
        )
    axes.set_xticks(
        x, [f"{w}\n{n} due" for w, n in zip(data.weeks, data.sla_due, strict=True)], fontsize="small"
    )
    axes.set_ylim(0, 105)
    axes.set_ylabel("SLA met (%)")
    axes.set_title(f"SLA attainment per week, {TREND_LABEL} to {period.name}")
    axes.grid(axis="y", alpha=0.3)
    return Chart("sla-trend", f"SLA attainment trend, 8 weeks to {period.name}", _png(figure))


_DRAW = {"daily-volume": daily_volume, "sla-trend": sla_trend}
assert set(_DRAW) == set(CHART_NAMES)


class MatplotlibChartRenderer:
    """The digest's charts drawn with matplotlib (safe to call from several worker threads)."""

    def render(self, name: ChartName, data: DigestChartData, period: Period) -> Chart:
        with _LOCK:
            return _DRAW[name](data, period)


def anomaly_chart(chart: ChartData) -> bytes:
    """The series (solid), its same-hour-of-week baseline (dashed), the flagged hour (dot)."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure  # the first drawing loads matplotlib (see the top)

    times = [p.at for p in chart.points]
    fig = Figure(figsize=(6, 2.4), dpi=100)
    ax = fig.subplots()
    with _LOCK:
        ax.plot(times, [p.observed for p in chart.points], color="#1f6feb", linewidth=1.5, label="observed")
        ax.plot(
            times,
            [p.baseline if p.baseline is not None else float("nan") for p in chart.points],
            color="#8b949e",
            linewidth=1,
            linestyle="--",
            label="usual (same hour, past weeks)",
        )
        flagged = [p for p in chart.points if p.at == chart.highlight]
        if flagged:
            ax.scatter([flagged[0].at], [flagged[0].observed], color="#d1242f", zorder=3, s=24)
        ax.set_title(chart.title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %H:%M"))
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.grid(alpha=0.2)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()

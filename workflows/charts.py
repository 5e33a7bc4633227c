"""The digest's charts as PNG bytes (matplotlib, Agg: no display, safe in worker threads
when each figure is its own object and never touches pyplot's global state)."""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from workflows.cases import CATEGORIES
from workflows.periods import Period
from workflows.reports import CHART_NAMES, Chart, ChartData

_LOCK = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def daily_volume(data: ChartData, period: Period) -> Chart:
    figure = Figure(figsize=(10, 4))
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


def sla_trend(data: ChartData, period: Period) -> Chart:
    figure = Figure(figsize=(10, 4))
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


TREND_LABEL = "8 weeks"
_RENDERERS = {"daily-volume": daily_volume, "sla-trend": sla_trend}
assert set(_RENDERERS) == set(CHART_NAMES)


def render(name: str, data: ChartData, period: Period) -> Chart:
    with _LOCK:
        return _RENDERERS[name](data, period)


def render_charts(data: ChartData, period: Period) -> list[Chart]:
    return [render(name, data, period) for name in CHART_NAMES]

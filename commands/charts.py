"""Small PNG charts for Slack posts (matplotlib, headless Agg backend)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from workflows.anomalies import ChartData


def anomaly_chart(chart: ChartData) -> bytes:
    """The series (solid), its same-hour-of-week baseline (dashed), the flagged hour (dot)."""
    times = [p.at for p in chart.points]
    fig, ax = plt.subplots(figsize=(6, 2.4), dpi=100)
    try:
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
    finally:
        plt.close(fig)

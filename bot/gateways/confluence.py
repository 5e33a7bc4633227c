"""Confluence REST (content API) as the weekly review's publisher, over httpx: the page of a
week is found by its title in the space and updated in place (version + 1), else created.
The body is Confluence storage format (XHTML), every value escaped."""

from __future__ import annotations

import html
from typing import Any

import httpx
from pydantic import SecretStr

from bot.gateways.atlassian import atlassian_client
from workflows.handoff.ports import Page, TrackerError
from workflows.reports.views import Chart, DigestReport


class ConfluencePublisher:
    def __init__(
        self,
        url: str,
        token: SecretStr,
        space: str,
        email: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = url.rstrip("/")
        self.space = space
        self.client = atlassian_client(self.base, token, email, transport)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TrackerError(f"Confluence unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise TrackerError(f"Confluence {response.status_code}", status=response.status_code)
        data = response.json() if response.content else {}
        return data if isinstance(data, dict) else {}

    def publish(self, title: str, report: DigestReport, charts: list[Chart]) -> Page:
        body = {"storage": {"value": storage(report, charts), "representation": "storage"}}
        found = self._call(
            "GET", "/rest/api/content", params={"spaceKey": self.space, "title": title, "expand": "version"}
        )
        results = found.get("results") or []
        if results:
            page_id = str(results[0]["id"])
            version = int((results[0].get("version") or {}).get("number", 1)) + 1
            self._call(
                "PUT",
                f"/rest/api/content/{page_id}",
                json={
                    "id": page_id,
                    "type": "page",
                    "title": title,
                    "space": {"key": self.space},
                    "body": body,
                    "version": {"number": version},
                },
            )
        else:
            created = self._call(
                "POST",
                "/rest/api/content",
                json={"type": "page", "title": title, "space": {"key": self.space}, "body": body},
            )
            page_id, version = str(created["id"]), 1
        for chart in charts:
            # PUT creates the attachment or adds a version of it: a re-run replaces the chart.
            self._call(
                "PUT",
                f"/rest/api/content/{page_id}/child/attachment",
                headers={"X-Atlassian-Token": "no-check"},
                files={"file": (f"{chart.name}.png", chart.png, "image/png")},
            )
        return Page(page_id, f"{self.base}/pages/viewpage.action?pageId={page_id}", version)


def _row(*cells: object) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def storage(report: DigestReport, charts: list[Chart] | None = None) -> str:
    """The investigation review and the abuse-trend summary of the week, as storage format."""
    parts = [
        f"<h1>Weekly review {html.escape(report.period.name)}</h1>",
        "<h2>Abuse trends</h2>",
        "<table><tbody>",
    ]
    parts.append("<tr><th>category</th><th>this week</th><th>previous week</th></tr>")
    parts += [
        _row(line.label, line.change.current, line.change.previous) for line in report.volume.by_category
    ]
    parts.append(_row("all", report.volume.total.current, report.volume.total.previous))
    parts.append("</tbody></table>")
    if report.anomalies is not None:
        parts.append(
            f"<p>Anomalies raised: {report.anomalies.raised}, still open: {report.anomalies.open_now}</p>"
        )
    inv = report.investigations
    parts.append("<h2>Investigation review</h2>")
    if inv is None:
        parts.append("<p>Investigations are not tracked here.</p>")
    else:
        outcomes = ", ".join(f"{html.escape(k)} {v}" for k, v in sorted(inv.outcomes.items())) or "none"
        parts.append(
            f"<p>Opened {inv.opened}, closed {inv.closed} ({outcomes}), open now {inv.open_now}.</p>"
        )
    cov = report.coverage
    if cov is not None and cov.confirmed:
        parts.append("<h2>Detection coverage</h2>")
        parts.append(
            f"<p>{cov.confirmed} confirmed abuse, {cov.automation_share:.0%} found by automation, "
            f"{cov.people_share:.0%} by people.</p><ul>"
            + "".join(f"<li>{html.escape(text)}</li>" for text, _evidence in cov.recommendations)
            + "</ul>"
        )
    qa = report.qa
    if qa is not None and qa.answered:
        # The team's figures only: agreement per analyst is for admins and never published.
        parts.append("<h2>QA re-reviews</h2><table><tbody>")
        parts.append(
            "<tr><th>category</th><th>re-reviewed</th><th>same outcome</th><th>same category</th></tr>"
        )
        parts += [
            _row(line.key, line.answered, line.outcome_agreed, line.category_agreed)
            for line in qa.by_category
        ]
        parts.append("</tbody></table>")
        if qa.calibration:
            parts.append(
                "<p>Calibration topics</p><ol>"
                + "".join(
                    f"<li>{html.escape(t.scope + ': ' if t.scope else '')}{html.escape(t.a)} vs "
                    f"{html.escape(t.b)}: {t.disagreed} of {t.of} re-reviews disagreed</li>"
                    for t in qa.calibration
                )
                + "</ol>"
            )
    for chart in charts or []:
        parts.append(
            f"<h3>{html.escape(chart.title)}</h3>"
            f'<ac:image><ri:attachment ri:filename="{html.escape(chart.name)}.png" /></ac:image>'
        )
    return "".join(parts)

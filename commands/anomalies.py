"""The Slack side of anomalies: the incident card (with its chart), its buttons (investigate,
snooze, not an issue, restore sensitivity), its closing reply and the alert budget's summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from commands.access import require
from commands.blocks import anomalies as blocks
from commands.blocks import investigations as inv_blocks
from commands.context import AppContext
from commands.listeners import tell, timed
from workflows.anomalies import AnomalyNotifier, BudgetView, ChartData, IncidentView
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackAnomalyNotifier(AnomalyNotifier):
    """Posts incident cards; ``draw`` turns the series into a PNG (bot/charts.py, given by the runtime)."""

    def __init__(self, client: WebClient, draw: Callable[[ChartData], bytes]) -> None:
        self.client = client
        self.draw = draw

    def post_incident(self, incident: IncidentView, channel: str) -> str:
        response = self.client.chat_postMessage(
            channel=channel,
            text=blocks.alert_text(incident),
            blocks=blocks.alert_blocks(incident),
            unfurl_links=False,
        )
        return response["ts"]

    def update_incident(self, incident: IncidentView) -> None:
        if not (incident.channel and incident.message_ts):
            return
        self.client.chat_update(
            channel=incident.channel,
            ts=incident.message_ts,
            text=blocks.alert_text(incident),
            blocks=blocks.alert_blocks(incident),
        )

    def reply_closed(self, incident: IncidentView) -> str:
        response = self.client.chat_postMessage(
            channel=incident.channel or "",
            thread_ts=incident.message_ts,
            text=blocks.closed_text(incident),
            unfurl_links=False,
        )
        return response["ts"]

    def post_chart(self, name: str, chart: ChartData, channel: str, thread_ts: str) -> str | None:
        response = self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=self.draw(chart),
            filename=f"{name}.png",
            title=chart.title,
        )
        file = response.get("file") or {}
        return file.get("id")

    def post_budget(self, budget: BudgetView, channel: str) -> str:
        response = self.client.chat_postMessage(
            channel=channel, text=blocks.budget_text(budget), blocks=blocks.budget_blocks(budget)
        )
        return response["ts"]

    def update_budget(self, budget: BudgetView) -> None:
        if not (budget.channel and budget.message_ts):
            return
        self.client.chat_update(
            channel=budget.channel,
            ts=budget.message_ts,
            text=blocks.budget_text(budget),
            blocks=blocks.budget_blocks(budget),
        )


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


def register(app: App, ctx: AppContext) -> None:
    anomalies, investigations = ctx.anomalies, ctx.investigations
    analyst = [require(ctx.roles, Role.analyst)]

    @app.action("anomaly_investigate", middleware=analyst)
    @timed("action:anomaly_investigate")
    def investigate(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, channel = body["user"]["id"], _channel(body)
        incident = anomalies.incident(_id(action))
        if incident is None or not incident.top_accounts:
            tell(
                client,
                channel,
                user,
                "No account stands out in that incident: use `/vigil investigate ACCOUNT`.",
            )
            return
        account = incident.top_accounts[0]["account_id"]
        result = investigations.open(
            account,
            user,
            channel=incident.channel or channel,
            thread_ts=incident.message_ts,
            anomaly_id=incident.peak_anomaly_id,
        )
        anomalies.investigated(incident.id, user)
        if result.outcome != "opened":
            tell(client, channel, user, inv_blocks.reply_for(result, account))

    @app.action("anomaly_snooze", middleware=analyst)
    @timed("action:anomaly_snooze")
    def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        tell(client, _channel(body), user, blocks.feedback_reply(anomalies.snooze(_id(action), user)))

    @app.action("anomaly_dismiss", middleware=analyst)
    @timed("action:anomaly_dismiss")
    def dismiss(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        result = anomalies.not_an_issue(_id(action), user)
        tell(client, _channel(body), user, blocks.feedback_reply(result))

    @app.action("anomaly_restore", middleware=analyst)
    @timed("action:anomaly_restore")
    def restore(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        result = anomalies.forget_shape(_id(action), user)
        tell(client, _channel(body), user, blocks.feedback_reply(result))


def _id(action: dict[str, Any]) -> int:
    """A button's value is the id it acts on; a forged one reads as an unknown id."""
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() and len(value) < 12 else 0

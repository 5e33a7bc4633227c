"""The Slack side of anomalies: the alert (with its chart) and its three buttons."""

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
from workflows.anomalies import AnomalyNotifier, AnomalyView, ChartData
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackAnomalyNotifier(AnomalyNotifier):
    """Posts alerts; ``draw`` turns the series into a PNG (bot/charts.py, given by the runtime)."""

    def __init__(self, client: WebClient, draw: Callable[[ChartData], bytes]) -> None:
        self.client = client
        self.draw = draw

    def post_alert(self, anomaly: AnomalyView, channel: str) -> str:
        response = self.client.chat_postMessage(
            channel=channel,
            text=blocks.alert_text(anomaly),
            blocks=blocks.alert_blocks(anomaly),
            unfurl_links=False,
        )
        return response["ts"]

    def post_chart(self, anomaly: AnomalyView, chart: ChartData, channel: str, thread_ts: str) -> str | None:
        response = self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=self.draw(chart),
            filename=f"anomaly-{anomaly.id}.png",
            title=chart.title,
        )
        file = response.get("file") or {}
        return file.get("id")

    def update_alert(self, anomaly: AnomalyView) -> None:
        if not (anomaly.channel and anomaly.message_ts):
            return
        self.client.chat_update(
            channel=anomaly.channel,
            ts=anomaly.message_ts,
            text=blocks.alert_text(anomaly),
            blocks=blocks.alert_blocks(anomaly),
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
        anomaly = anomalies.get(int(action["value"]))
        if anomaly is None or not anomaly.top_accounts:
            tell(
                client,
                channel,
                user,
                "No account stands out in that anomaly: use `/vigil investigate ACCOUNT`.",
            )
            return
        account = anomaly.top_accounts[0]["account_id"]
        result = investigations.open(
            account,
            user,
            channel=anomaly.channel or channel,
            thread_ts=anomaly.message_ts,
            anomaly_id=anomaly.id,
        )
        anomalies.investigated(anomaly.id, user)
        if result.outcome != "opened":
            tell(client, channel, user, inv_blocks.reply_for(result, account))

    @app.action("anomaly_snooze", middleware=analyst)
    @timed("action:anomaly_snooze")
    def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        tell(
            client, _channel(body), user, blocks.feedback_reply(anomalies.snooze(int(action["value"]), user))
        )

    @app.action("anomaly_dismiss", middleware=analyst)
    @timed("action:anomaly_dismiss")
    def dismiss(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        result = anomalies.not_an_issue(int(action["value"]), user)
        tell(client, _channel(body), user, blocks.feedback_reply(result))

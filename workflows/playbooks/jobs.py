"""The work rule actions queue: posts (route, notify) and investigations to open. Queued in
the transaction of the change that fired the rule, done by the job runner after commit."""

from __future__ import annotations

from typing import Any

from workflows.jobs import JobRunner
from workflows.playbooks.ports import InvestigationOpener
from workflows.ports import Notifier

JOB_POST = "rules.post"
JOB_OPEN_INVESTIGATION = "investigation.open"


def register_jobs(
    runner: JobRunner, notifier: Notifier, investigations: InvestigationOpener, alerts_channel: str
) -> None:
    """Posts go where the rule said; investigations open in the alerts channel, opened by
    the rule (``rule:<id>``)."""

    def post(payload: dict[str, Any]) -> None:
        notifier.post(payload["channel"], payload["text"])

    def open_investigation(payload: dict[str, Any]) -> None:
        investigations.open(
            str(payload["account_id"]), f"rule:{payload['rule']}"[:32], channel=alerts_channel
        )

    runner.register(JOB_POST, post)
    runner.register(JOB_OPEN_INVESTIGATION, open_investigation)

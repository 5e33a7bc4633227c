"""The Slack side of playbooks: /vigil rules, /vigil rules reload, and telling admins
when a playbook change was refused."""

from __future__ import annotations

import logging
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from commands.blocks import playbooks as blocks
from commands.vigil import VigilCall, subcommand
from workflows.config import VigilConfig
from workflows.playbooks import PlaybookError, rules_overview
from workflows.roles import Role

log = logging.getLogger(__name__)


class SlackPlaybookAlerts:
    """A broken playbook file is refused; the admins hear about it directly."""

    def __init__(self, client: WebClient, config: VigilConfig) -> None:
        self.client = client
        self.config = config

    def playbook_reload_failed(self, folder: Path, problems: list[str]) -> None:
        text = blocks.reload_failed_text(folder, problems)
        for admin in self.config.roles.admins:
            if admin.startswith("S"):
                continue  # a group cannot be messaged directly; its members are listed by user id too
            try:
                self.client.chat_postMessage(channel=admin, text=text)
            except SlackApiError as exc:
                log.warning(
                    "could not tell an admin", extra={"admin": admin, "error": exc.response.get("error")}
                )


@subcommand(
    "rules",
    "/vigil rules [reload]",
    "playbook rules with hits over 7 days",
    role=Role.analyst,
    roles_by_arg={"reload": Role.admin},
)
def _rules(call: VigilCall) -> None:
    playbooks = call.ctx.playbooks
    if call.args[:1] == ["reload"]:
        try:
            rules = playbooks.reload()
        except PlaybookError as exc:
            call.respond(
                text=blocks.reload_failed_text(playbooks.folder, exc.problems), response_type="ephemeral"
            )
            return
        call.respond(text=blocks.reloaded_text(rules), response_type="ephemeral")
        return
    with call.ctx.db.read() as session:
        overview = rules_overview(session, playbooks, call.ctx.clock.now())
    call.respond(
        blocks=blocks.rules_blocks(overview),
        text="Playbook rules",
        response_type="ephemeral",
    )

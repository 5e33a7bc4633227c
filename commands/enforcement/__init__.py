"""``/suspend``, ``/reinstate``, the approval card's buttons, the engineering hand-off and
``/vigil account ID`` (listeners); the modal's reading and prefill (forms); the bulk file's
safe download (files); and the Slack side of the enforcement notifier port (notifier)."""

from __future__ import annotations

from commands.enforcement.files import (
    FILES_URL,
    MAX_FILE_BYTES,
    FileProblem,
    download,
    is_slack_file_url,
    max_file_bytes,
)
from commands.enforcement.forms import (
    DRAFT_GONE,
    DRAFT_KIND,
    conflict_errors,
    draft_from_view,
    prefill,
    request_view,
    suspend_modal_opener,
)
from commands.enforcement.listeners import register
from commands.enforcement.notifier import SlackEnforcementNotifier

__all__ = [
    "DRAFT_GONE",
    "DRAFT_KIND",
    "FILES_URL",
    "MAX_FILE_BYTES",
    "FileProblem",
    "SlackEnforcementNotifier",
    "conflict_errors",
    "download",
    "draft_from_view",
    "is_slack_file_url",
    "max_file_bytes",
    "prefill",
    "register",
    "request_view",
    "suspend_modal_opener",
]

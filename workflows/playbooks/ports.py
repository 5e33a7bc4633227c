"""What playbooks need from outside, named by role; bot/runtime.py passes the
implementations (the Slack alerts, the signals capability's default case linking, the
investigations service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class ReloadListener(Protocol):
    """Told when a changed playbook folder was refused (the live rules stay)."""

    def playbook_reload_failed(self, folder: Path, problems: list[str]) -> None: ...


class ReportLinker(Protocol):
    """Links reports to cases before report.received rules run (a report joins the newest
    open case that mentions its account): report id → case id, or None."""

    def reports_received(self, reports: list[Any]) -> dict[int, int | None]: ...


class InvestigationOpener(Protocol):
    """Opens (or finds the open) investigation of an account: the open_investigation action."""

    def open(self, account_id: str, user: str, *, channel: str | None) -> Any: ...

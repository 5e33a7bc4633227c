"""What cases need from outside: somewhere to show a case (the Slack card, thread and alerts
channel) and the playbook rules that run when a case is opened or changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from store.cases import Case
from workflows.cases.views import CaseNotice, CaseView


@dataclass(frozen=True)
class CardRef:
    ts: str
    permalink: str | None


class CaseNotifier(Protocol):
    def post_card(self, case: CaseView) -> CardRef: ...
    def update_card(self, case: CaseView) -> None: ...
    def post_in_thread(self, case: CaseView, notice: CaseNotice) -> None: ...
    def post_alert(self, case: CaseView, notice: CaseNotice) -> None: ...


class CaseRuleHook(Protocol):
    """Playbook rules for cases, run inside the case's transaction (workflows/playbooks)."""

    def apply(self, session: Session, case: Case, trigger: str, change: str | None = None) -> Any: ...


class CaseSuggestionHook(Protocol):
    """Queues a triage suggestion for a new case in its transaction (workflows/ai): shown beside
    the playbook's decision, never changing it."""

    def queue(self, session: Session, case_id: int) -> None: ...
    def resolved(self, session: Session, case: Case) -> None:
        """Records whether the analyst kept the suggested category and priority."""
        ...


class CaseDecisionHook(Protocol):
    """Runs in a case's resolve transaction (workflows/decisions: the reporters of its user
    reports are told the decision, DSA Art. 16(5))."""

    def case_resolved(self, session: Session, case: Case, outcome: str) -> None: ...

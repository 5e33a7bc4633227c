"""Account features for playbook conditions (``account.*``) and backtests: how much has
happened to an account lately. Each source adds its own counts; a count nobody provides is
0 (context.with_defaults), so a rule written against signals still runs before a signal
feed is connected."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from store import playbooks as store
from workflows.playbooks.context import WINDOWS


class FeatureSource(Protocol):
    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        """Features as of ``now`` (backtests pass a past instant): only what happened before it."""
        ...


class CaseFeatures:
    """Cases that mention the account."""

    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        return store.case_counts(session, account_id, now, WINDOWS)


class EnforcementFeatures:
    """Enforcement actions carried out on the account, and whether it is suspended now."""

    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        features: dict[str, Any] = store.executed_action_counts(session, account_id, now, WINDOWS)
        features["suspended"] = store.last_executed_action(session, account_id, now) == "suspend"
        return features


class SignalFeatures:
    """Reports and signals about the account (the signals capability's tables)."""

    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        features: dict[str, Any] = store.signal_counts(session, account_id, now, WINDOWS)
        features.update(store.report_counts(session, account_id, now, WINDOWS))
        return features


class AccountFeatures:
    def __init__(self, sources: list[FeatureSource] | None = None) -> None:
        self.sources: list[FeatureSource] = (
            sources if sources is not None else [CaseFeatures(), EnforcementFeatures(), SignalFeatures()]
        )

    def for_account(self, session: Session, account_id: str | None, now: datetime) -> dict[str, Any]:
        features: dict[str, Any] = {"id": account_id or ""}
        if not account_id:
            return features
        for source in self.sources:
            features.update(source.counts(session, account_id, now))
        return features

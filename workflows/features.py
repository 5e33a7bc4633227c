"""Account features for playbook conditions and investigations: how much has happened to
an account lately. Each source adds its own counts; a count nobody provides is 0, so a
rule written against signals still runs before a signal feed is connected."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from store.cases import Case, CaseAccount
from store.enforcement import EXECUTED, EnforcementAction
from store.signals import Report, Signal

WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


class FeatureSource(Protocol):
    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        """Features as of ``now`` (backtests pass a past instant): only what happened before it."""
        ...


def windowed_counts(
    session: Session, timestamp: Any, where: Any, prefix: str, now: datetime
) -> dict[str, int]:
    """One indexed query: ``{prefix}_1h``, ``_24h``, ``_7d`` counts of rows before ``now``."""
    oldest = now - max(WINDOWS.values())
    columns = [
        func.coalesce(func.sum(case((timestamp >= now - delta, 1), else_=0)), 0).label(name)
        for name, delta in WINDOWS.items()
    ]
    row = session.execute(select(*columns).where(and_(where, timestamp >= oldest, timestamp < now))).one()
    return {f"{prefix}_{name}": int(value) for name, value in zip(WINDOWS, row, strict=True)}


class CaseFeatures:
    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        return windowed_counts(
            session,
            Case.created_at,
            and_(CaseAccount.case_id == Case.id, CaseAccount.account_id == account_id),
            "cases",
            now,
        )


class EnforcementFeatures:
    """Enforcement actions carried out on the account, and whether it is suspended now."""

    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        executed = and_(EnforcementAction.account_id == account_id, EnforcementAction.status.in_(EXECUTED))
        features: dict[str, Any] = windowed_counts(
            session, EnforcementAction.finished_at, executed, "enforcement_actions", now
        )
        latest = session.scalars(
            select(EnforcementAction.action)
            .where(executed, EnforcementAction.finished_at < now)
            .order_by(EnforcementAction.finished_at.desc(), EnforcementAction.id.desc())
            .limit(1)
        ).first()
        features["suspended"] = latest == "suspend"
        return features


class SignalFeatures:
    """Reports and signals about the account (the signals capability's tables)."""

    def counts(self, session: Session, account_id: str, now: datetime) -> dict[str, Any]:
        features = windowed_counts(
            session, Signal.occurred_at, Signal.account_id == account_id, "signals", now
        )
        features.update(
            windowed_counts(session, Report.occurred_at, Report.account_id == account_id, "reports", now)
        )
        return features


class AccountFeatures:
    def __init__(self, sources: list[FeatureSource] | None = None) -> None:
        self.sources: list[FeatureSource] = (
            sources if sources is not None else [CaseFeatures(), EnforcementFeatures(), SignalFeatures()]
        )

    def add(self, source: FeatureSource) -> None:
        self.sources.append(source)

    def for_account(self, session: Session, account_id: str | None, now: datetime) -> dict[str, Any]:
        features: dict[str, Any] = {"id": account_id or ""}
        if not account_id:
            return features
        for source in self.sources:
            features.update(source.counts(session, account_id, now))
        return features

"""The investigations service: open one (one open investigation per account), record the
verdict once, note a suspension request, read the dossier fresh, and post it from a job.

The dossier is read fresh each time it is shown: the profile from the platform, the
timeline of signals, reports, cases, enforcement and earlier investigations, velocity
against the population, accounts sharing a payment fingerprint or device, and the rules
that matched.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import investigations as store
from store import signals as signal_store
from store.db import Database
from store.investigations import OPEN, Investigation
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.investigations.ports import (
    AccountProfiles,
    EnforcementHistory,
    InvestigationNotifier,
    NoEnforcementHistory,
    NoProfiles,
    NoRuleMatches,
    RuleMatches,
)
from workflows.investigations.views import (
    OUTCOMES,
    Dossier,
    InvestigationResult,
    InvestigationView,
    TimelineItem,
    case_item,
    case_line,
    enforcement_item,
    investigation_items,
    linked_accounts,
    report_item,
    rule_item,
    signal_item,
    view_of,
)
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import INVESTIGATIONS_CLOSED, INVESTIGATIONS_OPENED
from workflows.signals import Signals, velocity_features

log = logging.getLogger(__name__)

JOB_POST = "investigation.post"
JOB_CLOSED = "investigation.closed"
LINKED = 20  # accounts shown as linked, those sharing the most values first


class Investigations:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        signals: Signals,
        *,
        jobs: JobRunner,
        profiles: AccountProfiles | None = None,
        history: EnforcementHistory | None = None,
        rules: RuleMatches | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.signals = signals
        self.jobs = jobs
        self.profiles: AccountProfiles = profiles or NoProfiles()
        self.history: EnforcementHistory = history or NoEnforcementHistory()
        self.rules: RuleMatches = rules or NoRuleMatches()

    # opening ----------------------------------------
    def open(
        self,
        account_id: str,
        user: str,
        *,
        channel: str | None,
        thread_ts: str | None = None,
        anomaly_id: int | None = None,
    ) -> InvestigationResult:
        """Open one (or find the open one: one open investigation per account)."""
        if not self.config.enforcement.account_id_regex().fullmatch(account_id):
            return InvestigationResult("invalid_account")
        now = self.clock.now()
        with self.db.transaction() as session:
            inserted = store.open_if_none_open(
                session,
                {
                    "account_id": account_id,
                    "open_key": account_id,
                    "status": OPEN,
                    "opened_by": user,
                    "opened_at": now,
                    "anomaly_id": anomaly_id,
                    "channel": channel,
                    "thread_ts": thread_ts,
                },
            )
            inv = store.open_investigation_of(session, account_id)
            if not inserted:
                return InvestigationResult("exists", view_of(session, inv))
            self._event(session, inv, user, "opened", {"anomaly_id": anomaly_id, "channel": channel})
            audit.record(
                session,
                at=now,
                actor=user,
                action="investigation.opened",
                subject_type="investigation",
                subject_id=inv.ref,
                data={"account_id": account_id, "anomaly_id": anomaly_id},
            )
            enqueue(session, self.clock, JOB_POST, {"investigation_id": inv.id}, key=f"inv-post:{inv.id}")
            view = view_of(session, inv)
        INVESTIGATIONS_OPENED.inc()
        self.jobs.wake()
        return InvestigationResult("opened", view)

    # the verdict ----------------------------------------
    def record_outcome(
        self, investigation_id: int, user: str, outcome: str, findings: str | None
    ) -> InvestigationResult:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        now = self.clock.now()
        findings = (findings or "").strip() or None
        with self.db.transaction() as session:
            won = store.close_if_open(
                session,
                investigation_id,
                {"outcome": outcome, "findings": findings, "closed_by": user, "closed_at": now},
            )
            inv = session.get(Investigation, investigation_id)
            if inv is None:
                return InvestigationResult("not_found")
            if not won:
                return InvestigationResult("already_closed", view_of(session, inv))
            session.refresh(inv)
            self._event(session, inv, user, "outcome", {"outcome": outcome, "findings": findings})
            audit.record(
                session,
                at=now,
                actor=user,
                action="investigation.outcome",
                subject_type="investigation",
                subject_id=inv.ref,
                data={"account_id": inv.account_id, "outcome": outcome, "findings": findings},
            )
            enqueue(session, self.clock, JOB_CLOSED, {"investigation_id": inv.id}, key=f"inv-closed:{inv.id}")
            view = view_of(session, inv)
        INVESTIGATIONS_CLOSED.labels(outcome=outcome).inc()
        self.jobs.wake()
        return InvestigationResult("closed", view)

    def note_suspension_request(self, investigation_id: int, user: str) -> InvestigationResult:
        with self.db.transaction() as session:
            inv = session.get(Investigation, investigation_id)
            if inv is None:
                return InvestigationResult("not_found")
            self._event(session, inv, user, "suspension_requested", {"account_id": inv.account_id})
            return InvestigationResult("noted", view_of(session, inv))

    # reading ----------------------------------------
    def get(self, investigation_id: int, with_events: bool = True) -> InvestigationView | None:
        with self.db.read() as session:
            inv = session.get(Investigation, investigation_id)
            return view_of(session, inv, with_events) if inv else None

    def mine(self, user: str, limit: int = 10) -> list[InvestigationView]:
        with self.db.read() as session:
            return [view_of(session, inv) for inv in store.open_ones_of(session, user, limit)]

    def dossier(
        self, account_id: str, at: datetime | None = None, limit: int = 15, signals: int = 8
    ) -> Dossier:
        """Read fresh each time. The timeline keeps every kind of event and only the latest
        ``signals`` signals: an account with 100,000 signals must not bury its one report."""
        at = at or self.clock.now()
        profile = self.profiles.profile(account_id)
        enforcement = self.history.for_account(account_id)
        rules = self.rules.for_account(account_id)
        population = self.signals.population(at)
        with self.db.read() as session:
            velocity = velocity_features(
                session, account_id, at, self.config.signals.types, population, profile.created_at
            )
            total = signal_store.signal_count_of(session, account_id)
            items: list[TimelineItem] = [
                signal_item(s) for s in signal_store.latest_signals_of(session, account_id, at, signals)
            ]
            items += [report_item(r) for r in signal_store.reports_of_account(session, account_id, limit)]
            case_rows = store.cases_of_account(session, account_id, limit)
            items += [case_item(c) for c in case_rows]
            past = [view_of(session, inv) for inv in store.of_account(session, account_id, limit)]
            for inv in past:
                items += investigation_items(inv)
            shared = signal_store.shared_links(
                session, account_id, self.config.signals.link_keys, limit=LINKED * 5
            )
            linked = linked_accounts(shared, LINKED)
        items += [enforcement_item(record) for record in enforcement[:limit]]
        items += [rule_item(match) for match in rules[:limit]]
        items.sort(key=lambda item: item.at, reverse=True)
        return Dossier(
            account_id=account_id,
            at=at,
            profile=profile,
            velocity=velocity,
            signal_total=total,
            timeline=items[: limit * 2],
            cases=[case_line(c) for c in case_rows],
            enforcement=enforcement,
            linked=linked,
            rules=rules,
            past=past,
        )

    # internals ----------------------------------------
    def _event(
        self, session: Session, inv: Investigation, actor: str | None, kind: str, data: dict[str, Any]
    ) -> None:
        store.add_event(session, inv.id, self.clock.now(), actor, kind, data)

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: InvestigationNotifier) -> None:
        def post(payload: dict[str, Any]) -> None:
            inv = self._job_investigation(payload)
            if inv.message_ts:
                return
            channel, ts = notifier.post_investigation(inv, self.dossier(inv.account_id))
            with self.db.transaction() as session:
                if store.mark_posted(session, inv.id, channel, ts):
                    store.add_event(
                        session, inv.id, self.clock.now(), None, "posted", {"channel": channel, "ts": ts}
                    )

        def closed(payload: dict[str, Any]) -> None:
            inv = self._job_investigation(payload)
            if not inv.message_ts:
                raise RuntimeError("investigation not posted yet; retry after it is")
            notifier.update_investigation(inv, self.dossier(inv.account_id))
            notifier.post_outcome(inv)

        runner.register(JOB_POST, post)
        runner.register(JOB_CLOSED, closed)

    def _job_investigation(self, payload: dict[str, Any]) -> InvestigationView:
        inv = self.get(int(payload["investigation_id"]), with_events=False)
        if inv is None:
            raise PermanentJobError(f"investigation {payload['investigation_id']} does not exist")
        return inv

"""Rules at work: the runners other capabilities call when something happens (a case opens
or changes, an enforcement request is made, reports, signals and anomalies arrive), and
the rule matches investigations show.

Each runner evaluates one trigger for one subject inside the caller's transaction and
carries out the matches' actions there, so what a rule did, its rule_hits row and the
state change that fired it commit together.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from store import playbooks as store
from store.cases import accounts_of
from store.db import Database
from workflows.cases import timeline
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import enqueue
from workflows.metrics import RULE_ERRORS
from workflows.playbooks.context import (
    AnomalySubject,
    ReportSubject,
    accounts_in,
    anomaly_context,
    anomaly_ref,
    case_context,
    report_context,
    report_ref,
    request_context,
    signal_context,
    signal_ref,
)
from workflows.playbooks.evaluate import (
    Evaluation,
    Match,
    evaluate,
    live_counts_since,
    record_hits,
    render_notification,
    start_of_day,
)
from workflows.playbooks.features import AccountFeatures
from workflows.playbooks.jobs import JOB_OPEN_INVESTIGATION, JOB_POST
from workflows.playbooks.loader import CHANNEL_ALIASES, Action
from workflows.playbooks.ports import ReportLinker
from workflows.playbooks.reload import Playbooks

if TYPE_CHECKING:
    from store.cases import Case
    from store.enforcement import EnforcementRequest
    from workflows.investigations import RuleMatch

log = logging.getLogger(__name__)


class RuleRunner:
    """Evaluates a trigger for a subject and carries out the actions every subject shares
    (route, notify, open_investigation) as queued jobs. Subject-specific actions (a case's
    priority, a request's approvals) are the subclass's ``_own``."""

    def __init__(
        self, playbooks: Playbooks, features: AccountFeatures, clock: Clock, config: VigilConfig
    ) -> None:
        self.playbooks = playbooks
        self.features = features
        self.clock = clock
        self.config = config

    def run(
        self, session: Session, trigger: str, subject: Any, subject_id: str, context: dict[str, Any]
    ) -> tuple[Evaluation, dict[str, Any]]:
        now = self.clock.now()
        evaluation = evaluate(
            self.playbooks.rules,
            trigger,
            subject_id,
            context,
            now,
            live_counts_since(session, start_of_day(now, self.config.tz)),
        )
        changes: dict[str, Any] = {}
        if not evaluation.matches:
            return evaluation, changes
        record_hits(session, evaluation, now, (context.get("account") or {}).get("id"))
        occasion = f"{context.get('change') or trigger}:{getattr(subject, 'escalations', 0)}"
        for match in evaluation.matches:
            if match.mode != "live":
                continue
            for action in match.actions:
                if not self._own(session, subject, match, action, changes):
                    self._shared(session, subject, subject_id, match, action, context, occasion)
        session.flush()
        return evaluation, changes

    def _own(
        self, session: Session, subject: Any, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        """Carry out ``action`` if it is the subject's own kind; False leaves it to _shared."""
        return False

    def _channel(self, ref: str) -> str:
        return str(getattr(self.config.channels, ref)) if ref in CHANNEL_ALIASES else ref

    @staticmethod
    def _label(subject: Any, subject_id: str) -> str:
        """As the subject stands now, after the actions before this one (set_priority, …)."""
        if hasattr(subject, "priority") and hasattr(subject, "category"):
            return f"{subject_id} ({subject.priority}, {subject.category})"
        return subject_id

    def _shared(
        self,
        session: Session,
        subject: Any,
        subject_id: str,
        match: Match,
        action: Action,
        context: dict[str, Any],
        occasion: str,
    ) -> None:
        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "route":
            label = self._label(subject, subject_id)
            text = f"{label} matched playbook rule {rule}: {match.rule.rule.description}"
            enqueue(
                session,
                self.clock,
                JOB_POST,
                {"channel": self._channel(value), "text": text},
                key=f"route:{rule}:{subject_id}:{occasion}",
            )
        elif kind == "notify":
            try:
                text = render_notification(value["template"], context)
            except TemplateError as exc:
                RULE_ERRORS.labels(rule=rule).inc()
                log.warning(
                    "notify template failed", extra={"rule": rule, "subject": subject_id, "error": str(exc)}
                )
                return
            enqueue(
                session,
                self.clock,
                JOB_POST,
                {"channel": self._channel(value["channel"]), "text": text},
                key=f"notify:{rule}:{subject_id}:{occasion}",
            )
        elif kind == "open_investigation":
            accounts = [a for a in accounts_in(context) if a][:5]
            for account in accounts:
                enqueue(
                    session,
                    self.clock,
                    JOB_OPEN_INVESTIGATION,
                    {"account_id": account, "rule": rule, "subject": subject_id},
                    key=f"investigate:{rule}:{subject_id}:{account}",
                )


def _add_label(case: Case, label: str) -> bool:
    if label in (case.labels or []):
        return False
    case.labels = [*(case.labels or []), label]
    return True


def _add_recommendation(subject: Case | EnforcementRequest, rule: str, text: str) -> None:
    """One hint per rule, however often it matches."""
    if not any(r.get("rule") == rule for r in subject.recommendations or []):
        subject.recommendations = [*(subject.recommendations or []), {"rule": rule, "text": text}]


class PlaybookCaseRules(RuleRunner):
    """case.created / case.updated, inside the case's transaction; matches land on the case's
    timeline."""

    def apply(self, session: Session, case: Case, trigger: str, change: str | None = None) -> Evaluation:
        now = self.clock.now()
        accounts = accounts_of(session, case.id)
        account = self.features.for_account(session, accounts[0] if accounts else None, now)
        context = case_context(case, accounts, account, now, change)
        evaluation, changes = self.run(session, trigger, case, case.ref, context)
        if evaluation.matches:
            data = {"trigger": trigger, "rules": evaluation.summary(), "changes": changes}
            timeline.note(session, case.id, "rules_matched", data, at=now)
        return evaluation

    def _own(
        self, session: Session, case: Case, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "set_category":
            case.category = changes["category"] = value
        elif kind == "set_priority":
            case.priority = changes["priority"] = value
            case.sla_due_at = case.created_at + self.config.sla.for_priority(value)
        elif kind == "add_label":
            if _add_label(case, value):
                changes.setdefault("labels", []).append(value)
        elif kind == "recommend":
            _add_recommendation(case, rule, value)
        elif kind == "require_second_review":
            case.second_review = f"{value} ({rule})"
        else:
            return False
        return True


class PlaybookRequestRules(RuleRunner):
    """enforcement.requested: rules may ask for one more approval or add a hint to the card;
    they never approve, reject or execute anything."""

    def apply(self, session: Session, request: EnforcementRequest) -> Evaluation:
        now = self.clock.now()
        accounts = store.request_accounts(session, request.id)
        account = self.features.for_account(session, accounts[0] if accounts else None, now)
        context = request_context(request, accounts, account)
        evaluation, changes = self.run(session, "enforcement.requested", request, request.ref, context)
        if evaluation.matches:
            data = {"rules": evaluation.summary(), "changes": changes}
            store.add_request_event(session, request.id, now, "vigil", "rules_matched", data)
        return evaluation

    def _own(
        self,
        session: Session,
        request: EnforcementRequest,
        match: Match,
        action: Action,
        changes: dict[str, Any],
    ) -> bool:
        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "recommend":
            _add_recommendation(request, rule, value)
        elif kind == "require_second_review":
            if request.second_review is None:  # one extra approver, however many rules ask
                request.approvals_needed += 1
                changes["approvals_needed"] = request.approvals_needed
            request.second_review = f"{value} ({rule})"
        else:
            return False
        return True


class SignalBatch(Protocol):
    """A stored batch of signals, as the signals capability hands it over after commit."""

    @property
    def accounts(self) -> list[str]: ...
    @property
    def received_at(self) -> datetime | None: ...


class PlaybookSignalRules(RuleRunner):
    """report.received, signal.ingested and anomaly.detected: the hooks the signals capability
    calls after its data is committed (the SignalRuleHook and AnomalyRuleHook ports). Reports keep the default
    case linking; rules add to that case, route, notify or open investigations."""

    def __init__(
        self,
        playbooks: Playbooks,
        features: AccountFeatures,
        clock: Clock,
        config: VigilConfig,
        db: Database,
        linker: ReportLinker,
    ) -> None:
        super().__init__(playbooks, features, clock, config)
        self.db = db
        self.linker = linker  # the newest open case that mentions the account
        self.max_signals = 5000  # per batch: rules look at the newest ones of a flood

    def _wanted(self, trigger: str) -> bool:
        now = self.clock.now()
        return any(rule.active(now) for rule in self.playbooks.rules.for_trigger(trigger))

    def reports_received(self, reports: list[ReportSubject]) -> dict[int, int | None]:
        links = self.linker.reports_received(reports)
        if not reports or not self._wanted("report.received"):
            return links
        with self.db.transaction() as session:
            cache: dict[str, dict[str, Any]] = {}
            for report in reports:
                case_id = links.get(report.id)
                context = report_context(report, case_id, self._account(session, report.account_id, cache))
                case = store.case_by_id(session, case_id) if case_id else None
                self.run(session, "report.received", case, report_ref(report), context)
        return links

    def signal_ingested(self, batch: SignalBatch) -> None:
        if not batch.accounts or not self._wanted("signal.ingested"):
            return
        with self.db.transaction() as session:
            rows = store.batch_signals(session, batch.accounts[:1000], batch.received_at, self.max_signals)
            cache: dict[str, dict[str, Any]] = {}
            for signal in rows:
                context = signal_context(signal, self._account(session, signal.account_id, cache))
                self.run(session, "signal.ingested", None, signal_ref(signal), context)

    def anomaly_detected(self, anomaly: AnomalySubject) -> None:
        if not self._wanted("anomaly.detected"):
            return
        context = anomaly_context(anomaly)
        with self.db.transaction() as session:
            self.run(session, "anomaly.detected", None, anomaly_ref(anomaly), context)

    def _account(self, session: Session, account_id: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if account_id not in cache:
            cache[account_id] = self.features.for_account(session, account_id, self.clock.now())
        return cache[account_id]

    def _own(
        self, session: Session, case: Case | None, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        """A report's label or hint lands on the case it was linked to."""
        if case is None or action.kind not in ("add_label", "recommend"):
            return False
        if action.kind == "add_label":
            _add_label(case, action.value)
        else:
            _add_recommendation(case, match.rule.id, action.value)
        return True


class PlaybookRuleMatches:
    """For investigations: the rules that matched subjects of this account, newest first."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def for_account(self, account_id: str) -> list[RuleMatch]:
        # Imported here: loading playbooks (`vigil rules check`) need not load investigations.
        from workflows.investigations import RuleMatch

        with self.db.read() as session:
            return [
                RuleMatch(
                    at=hit.at, rule=hit.rule_id, detail=f"{hit.mode} on {hit.subject_id} ({hit.trigger})"
                )
                for hit in store.hits_for_account(session, account_id)
            ]

"""Investigations (INV-<n>): everything Vigil knows about one account, in one place, and
the analyst's verdict on it (abuse confirmed, legitimate outlier, inconclusive).

The dossier is read fresh each time it is shown: the profile from the platform's
enforcement API, the timeline of signals, reports, cases, enforcement and earlier
investigations, velocity against the population, accounts sharing a payment fingerprint
or device, and the rules that matched. Enforcement history and rule matches come through
ports that the enforcement and playbook capabilities fill in; until then they are empty.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from store.base import insert_ignore
from store.cases import Case, CaseAccount
from store.db import Database
from store.investigations import Investigation, InvestigationEvent
from store.investigations import timeline as event_rows
from store.signals import Report, Signal, SignalLink
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import INVESTIGATIONS_CLOSED, INVESTIGATIONS_OPENED
from workflows.signals import Signals, velocity_features

log = logging.getLogger(__name__)

OUTCOMES: dict[str, str] = {
    "abuse_confirmed": "Abuse confirmed",
    "legitimate_outlier": "Legitimate outlier",
    "inconclusive": "Inconclusive",
}
OPEN, CLOSED = "open", "closed"
PROFILE_TIMEOUT = 5.0
JOB_POST = "investigation.post"
JOB_CLOSED = "investigation.closed"


# --- ports ----------------------------------------
@dataclass(frozen=True)
class Profile:
    status: Literal["found", "unknown", "unreachable", "not_configured"]
    data: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None

    @property
    def created_at(self) -> datetime | None:
        raw = self.data.get("created_at")
        if not isinstance(raw, str):
            return None
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class AccountProfiles(Protocol):
    def get(self, account_id: str) -> Profile: ...


class NoProfiles:
    def get(self, account_id: str) -> Profile:
        return Profile("not_configured", detail="VIGIL_ENFORCEMENT_URL is not set")


class EnforcementApiProfiles:
    """``GET {url}/accounts/{id}`` (DESIGN.md). Never raises: an investigation with an
    unreachable profile is still an investigation."""

    def __init__(self, url: str, token: str | None, timeout: float = PROFILE_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout

    def get(self, account_id: str) -> Profile:
        try:
            response = httpx.get(
                f"{self.url}/accounts/{account_id}", headers=self.headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return Profile("unreachable", detail=type(exc).__name__)
        if response.status_code == 404:
            return Profile("unknown", detail="the platform does not know this account")
        if response.status_code != 200:
            return Profile("unreachable", detail=f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            return Profile("unreachable", detail="the answer was not JSON")
        if not isinstance(data, dict):
            return Profile("unreachable", detail="the answer was not a JSON object")
        return Profile("found", data=data)


@dataclass(frozen=True)
class EnforcementRecord:
    at: datetime
    action: str  # suspend, reinstate, …
    status: str  # requested, approved, done, failed, …
    ref: str | None = None  # REQ-<n>
    actor: str | None = None
    note: str | None = None
    open: bool = False  # still waiting for approval, approved or executing: not done yet


class EnforcementHistory(Protocol):
    """Filled in by the enforcement capability (requests and actions on this account)."""

    def for_account(self, account_id: str) -> list[EnforcementRecord]: ...


class NoEnforcementHistory:
    def for_account(self, account_id: str) -> list[EnforcementRecord]:
        return []


@dataclass(frozen=True)
class RuleMatch:
    at: datetime
    rule: str
    detail: str | None = None


class RuleMatches(Protocol):
    """Filled in by the playbooks capability (rule hits on this account)."""

    def for_account(self, account_id: str) -> list[RuleMatch]: ...


class NoRuleMatches:
    def for_account(self, account_id: str) -> list[RuleMatch]:
        return []


# --- what adapters render ----------------------------------------
@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # signal, report, case, enforcement, investigation, rule
    text: str  # may carry client text (report reasons, attribute values): adapters escape it


@dataclass(frozen=True)
class LinkedAccount:
    account_id: str
    shared: list[tuple[str, str]]  # (attribute, value)


@dataclass(frozen=True)
class CaseLine:
    ref: str
    status: str
    category: str
    priority: str
    permalink: str | None


@dataclass(frozen=True)
class Dossier:
    account_id: str
    at: datetime
    profile: Profile
    velocity: dict[str, Any]
    signal_total: int
    timeline: list[TimelineItem]
    cases: list[CaseLine]
    enforcement: list[EnforcementRecord]
    linked: list[LinkedAccount]
    rules: list[RuleMatch]
    past: list[InvestigationView]


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str | None
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class InvestigationView:
    id: int
    ref: str
    account_id: str
    status: str
    opened_by: str
    opened_at: datetime
    anomaly_id: int | None
    outcome: str | None
    findings: str | None
    closed_by: str | None
    closed_at: datetime | None
    channel: str | None
    thread_ts: str | None
    message_ts: str | None
    events: list[EventView] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def outcome_label(self) -> str | None:
        return OUTCOMES.get(self.outcome or "", self.outcome)


def view_of(session: Session, inv: Investigation, with_events: bool = False) -> InvestigationView:
    events = (
        [EventView(e.at, e.actor, e.kind, dict(e.data or {})) for e in event_rows(session, inv.id)]
        if with_events
        else []
    )
    return InvestigationView(
        id=inv.id,
        ref=inv.ref,
        account_id=inv.account_id,
        status=inv.status,
        opened_by=inv.opened_by,
        opened_at=inv.opened_at,
        anomaly_id=inv.anomaly_id,
        outcome=inv.outcome,
        findings=inv.findings,
        closed_by=inv.closed_by,
        closed_at=inv.closed_at,
        channel=inv.channel,
        thread_ts=inv.thread_ts,
        message_ts=inv.message_ts,
        events=events,
    )


class InvestigationNotifier(Protocol):
    def post_investigation(self, investigation: InvestigationView, dossier: Dossier) -> tuple[str, str]:
        """Posts the investigation; returns (channel, ts) of where it landed."""
        ...

    def update_investigation(self, investigation: InvestigationView, dossier: Dossier) -> None: ...

    def post_outcome(self, investigation: InvestigationView) -> None:
        """Says in the investigation's thread who closed it, how, and their findings."""
        ...


Outcome = Literal["opened", "exists", "invalid_account", "closed", "already_closed", "not_found", "noted"]


@dataclass(frozen=True)
class InvestigationResult:
    outcome: Outcome
    investigation: InvestigationView | None = None


def _attributes_text(attributes: dict[str, Any] | None, limit: int = 4) -> str:
    if not attributes:
        return ""
    parts = [f"{k}={v}" for k, v in list(attributes.items())[:limit] if not isinstance(v, dict | list)]
    return " ".join(parts)


# --- the workflow ----------------------------------------
class Investigations:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        signals: Signals,
        profiles: AccountProfiles | None = None,
        history: EnforcementHistory | None = None,
        rules: RuleMatches | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.signals = signals
        self.profiles: AccountProfiles = profiles or NoProfiles()
        self.history: EnforcementHistory = history or NoEnforcementHistory()
        self.rules: RuleMatches = rules or NoRuleMatches()
        self._wake = wake or (lambda: None)

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
            inserted = insert_ignore(
                session,
                Investigation.__table__,  # type: ignore[arg-type]
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
                ["open_key"],
            )
            inv = session.scalars(select(Investigation).where(Investigation.open_key == account_id)).one()
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
        self._wake()
        return InvestigationResult("opened", view)

    def repost(self, investigation_id: int, user: str, channel: str) -> InvestigationResult:
        """Show an open investigation again where it was asked for (it may live elsewhere)."""
        with self.db.transaction() as session:
            inv = session.get(Investigation, investigation_id)
            if inv is None:
                return InvestigationResult("not_found")
            self._event(session, inv, user, "shown", {"channel": channel})
            return InvestigationResult("noted", view_of(session, inv))

    # the verdict ----------------------------------------
    def record_outcome(
        self, investigation_id: int, user: str, outcome: str, findings: str | None
    ) -> InvestigationResult:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        now = self.clock.now()
        findings = (findings or "").strip() or None
        with self.db.transaction() as session:
            won = session.execute(
                update(Investigation)
                .where(Investigation.id == investigation_id, Investigation.status == OPEN)
                .values(
                    status=CLOSED,
                    open_key=None,
                    outcome=outcome,
                    findings=findings,
                    closed_by=user,
                    closed_at=now,
                )
                .returning(Investigation.id)
            ).first()
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
        self._wake()
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
            rows = session.scalars(
                select(Investigation)
                .where(Investigation.opened_by == user, Investigation.status == OPEN)
                .order_by(Investigation.opened_at.desc(), Investigation.id.desc())
                .limit(limit)
            )
            return [view_of(session, inv) for inv in rows]

    def dossier(
        self, account_id: str, at: datetime | None = None, limit: int = 15, signals: int = 8
    ) -> Dossier:
        """Read fresh each time. The timeline keeps every kind of event and only the latest
        ``signals`` signals: an account with 100,000 signals must not bury its one report."""
        at = at or self.clock.now()
        profile = self.profiles.get(account_id)
        enforcement = self.history.for_account(account_id)
        rules = self.rules.for_account(account_id)
        population = self.signals.population(at)
        with self.db.read() as session:
            velocity = velocity_features(
                session, account_id, at, self.config.signals.types, population, profile.created_at
            )
            total = session.scalar(select(func.count()).where(Signal.account_id == account_id)) or 0
            items: list[TimelineItem] = []
            for signal in session.scalars(
                select(Signal)
                .where(Signal.account_id == account_id, Signal.occurred_at <= at)
                .order_by(Signal.occurred_at.desc())
                .limit(signals)
            ):
                value = f" {signal.value:g}" if signal.value is not None else ""
                detail = _attributes_text(signal.attributes)
                items.append(
                    TimelineItem(signal.occurred_at, "signal", f"{signal.type}{value} {detail}".strip())
                )
            for report in session.scalars(
                select(Report)
                .where(Report.account_id == account_id)
                .order_by(Report.occurred_at.desc())
                .limit(limit)
            ):
                linked = f" → CASE-{report.case_id}" if report.case_id else ""
                who = f" by {report.reporter}" if report.reporter else ""
                items.append(
                    TimelineItem(
                        report.occurred_at, "report", f"report: {report.reason or 'no reason'}{who}{linked}"
                    )
                )
            case_rows = session.scalars(
                select(Case)
                .join(CaseAccount, CaseAccount.case_id == Case.id)
                .where(CaseAccount.account_id == account_id)
                .order_by(Case.created_at.desc())
                .limit(limit)
            ).all()
            cases = [CaseLine(c.ref, c.status, c.category, c.priority, c.permalink) for c in case_rows]
            for c in case_rows:
                items.append(
                    TimelineItem(c.created_at, "case", f"{c.ref} opened ({c.category}, {c.priority})")
                )
            past = [
                view_of(session, inv)
                for inv in session.scalars(
                    select(Investigation)
                    .where(Investigation.account_id == account_id)
                    .order_by(Investigation.id.desc())
                    .limit(limit)
                )
            ]
            for inv in past:
                items.append(TimelineItem(inv.opened_at, "investigation", f"{inv.ref} opened"))
                if inv.closed_at:
                    items.append(
                        TimelineItem(inv.closed_at, "investigation", f"{inv.ref} closed: {inv.outcome_label}")
                    )
            linked = self._linked(session, account_id)
        for record in enforcement[:limit]:
            ref = f" {record.ref}" if record.ref else ""
            items.append(TimelineItem(record.at, "enforcement", f"{record.action} {record.status}{ref}"))
        for match in rules[:limit]:
            items.append(TimelineItem(match.at, "rule", f"rule {match.rule} matched"))
        items.sort(key=lambda item: item.at, reverse=True)
        return Dossier(
            account_id=account_id,
            at=at,
            profile=profile,
            velocity=velocity,
            signal_total=int(total),
            timeline=items[: limit * 2],
            cases=cases,
            enforcement=enforcement,
            linked=linked,
            rules=rules,
            past=past,
        )

    def _linked(self, session: Session, account_id: str, limit: int = 20) -> list[LinkedAccount]:
        mine, other = aliased(SignalLink), aliased(SignalLink)
        rows = session.execute(
            select(other.account_id, other.key, other.value)
            .join(mine, (mine.key == other.key) & (mine.value == other.value))
            .where(
                mine.account_id == account_id,
                other.account_id != account_id,
                mine.key.in_(self.config.signals.link_keys),
            )
            .order_by(other.account_id, other.key, other.value)
            .limit(limit * 5)
        ).all()
        shared: dict[str, list[tuple[str, str]]] = {}
        for other_account, key, value in rows:
            shared.setdefault(other_account, []).append((key, value))
        ranked = sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return [LinkedAccount(account, pairs) for account, pairs in ranked[:limit]]

    # internals ----------------------------------------
    def _event(
        self, session: Session, inv: Investigation, actor: str | None, kind: str, data: dict[str, Any]
    ) -> None:
        session.add(
            InvestigationEvent(
                investigation_id=inv.id, at=self.clock.now(), actor=actor, kind=kind, data=data
            )
        )

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: InvestigationNotifier) -> None:
        def post(payload: dict[str, Any]) -> None:
            inv = self._job_investigation(payload)
            if inv.message_ts:
                return
            channel, ts = notifier.post_investigation(inv, self.dossier(inv.account_id))
            with self.db.transaction() as session:
                done = session.execute(
                    update(Investigation)
                    .where(Investigation.id == inv.id, Investigation.message_ts.is_(None))
                    .values(channel=channel, message_ts=ts)
                    .returning(Investigation.id)
                ).first()
                if done:
                    session.add(
                        InvestigationEvent(
                            investigation_id=inv.id,
                            at=self.clock.now(),
                            actor=None,
                            kind="posted",
                            data={"channel": channel, "ts": ts},
                        )
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


def evidence_for(inv: InvestigationView) -> str:
    """What a /suspend request carries from an investigation."""
    return f"{inv.ref} (Vigil investigation of {inv.account_id})"


# --- what other capabilities read ----------------------------------------
class LedgerEnforcementHistory:
    """The enforcement capability's ledger, as an investigation shows it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def for_account(self, account_id: str) -> list[EnforcementRecord]:
        """Open requests first (an analyst must see REQ-n waiting before asking again), then
        what was done, newest first."""
        from workflows.enforcement import account_history, open_requests_of

        with self.db.read() as session:
            pending = open_requests_of(session, account_id)
            entries = account_history(session, account_id)
        records = [
            EnforcementRecord(
                at=entry.requested_at,
                action=entry.action,
                status=entry.state,
                ref=entry.ref,
                actor=entry.requester,
                note=f"reason {entry.reason_code}",
                open=True,
            )
            for entry in pending
        ]
        shown = {entry.ref for entry in pending}
        records += [
            EnforcementRecord(
                at=entry.finished_at or entry.requested_at,
                action=entry.action,
                status=entry.status,
                ref=entry.ref,
                actor=entry.executed_by or entry.requester,
                note=entry.error or (f"reason {entry.reason_code}" if entry.reason_code else None),
            )
            for entry in entries
            if entry.ref not in shown
        ]
        return records


class InvestigationWeekStats:
    """For the weekly review: opened, closed and their outcomes, and what was still open."""

    def week(self, session: Session, start: datetime, end: datetime) -> Any:
        from sqlalchemy import and_, func, or_

        from workflows.reports import InvestigationWeek, OpenInvestigation

        opened = (
            session.scalar(
                select(func.count()).where(Investigation.opened_at >= start, Investigation.opened_at < end)
            )
            or 0
        )
        closed_rows = session.execute(
            select(Investigation.outcome, func.count())
            .where(Investigation.closed_at >= start, Investigation.closed_at < end)
            .group_by(Investigation.outcome)
        ).all()
        open_at_end = and_(
            Investigation.opened_at < end,
            or_(Investigation.closed_at.is_(None), Investigation.closed_at >= end),
        )
        open_now = session.scalar(select(func.count()).where(open_at_end)) or 0
        oldest = session.scalars(
            select(Investigation).where(open_at_end).order_by(Investigation.opened_at).limit(5)
        )
        return InvestigationWeek(
            opened=opened,
            closed=sum(count for _, count in closed_rows),
            outcomes={outcome or "unknown": count for outcome, count in closed_rows},
            open_now=open_now,
            oldest_open=[
                OpenInvestigation(
                    ref=inv.ref, title=inv.account_id, owner=inv.opened_by, opened_at=inv.opened_at
                )
                for inv in oldest
            ],
        )

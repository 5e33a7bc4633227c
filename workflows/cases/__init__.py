"""Cases become cases: intake, triage, claim, escalate, resolve, notes, SLA.

Every state change is one conditional UPDATE (never read-then-write), written with its
case_events row in the same transaction; Slack side effects (card, nudges, alerts) are
queued as jobs in that transaction too, so a Slack outage delays them and loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store import cases as store
from store.base import insert_ignore
from store.cases import Case, CaseAccount, CaseEvent
from store.db import Database
from store.playbooks import hits_for
from workflows.cases import timeline
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.metrics import CASES_OPENED, CASES_RESOLVED

CATEGORIES: dict[str, str] = {
    "suspension_request": "Suspension request",
    "reinstatement_request": "Reinstatement request",
    "cx_escalation": "CX escalation",
    "host_report": "Host report",
    "user_report": "User report",
    "abuse_inquiry": "Abuse inquiry",
    "other": "Other",
}
PRIORITIES = ("P1", "P2", "P3", "P4")
OUTCOMES: dict[str, str] = {
    "actioned": "Actioned",
    "no_action": "No action",
    "duplicate": "Duplicate",
    "not_ts": "Not T&S",
}
NEW, CLAIMED, RESOLVED = "new", "claimed", "resolved"
NUDGE_AT = 0.75  # of the SLA elapsed


# --- inputs ----------------------------------------
class IncomingMessage(BaseModel):
    """A Slack message, as the adapter saw it: the text is kept exactly as written."""

    channel: str
    ts: str
    user: str | None = None
    is_bot: bool = False
    text: str = ""


class CaseOverrides(BaseModel):
    category: (
        Literal[
            "suspension_request",
            "reinstatement_request",
            "cx_escalation",
            "host_report",
            "user_report",
            "abuse_inquiry",
            "other",
        ]
        | None
    ) = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None


# --- triage ----------------------------------------
@dataclass(frozen=True)
class Triage:
    category: str
    priority: str
    reasons: list[str] = field(default_factory=list)


class Triager(Protocol):
    """Decides category and priority of a new case (the playbooks replace the default)."""

    def triage(self, text: str, accounts: list[str]) -> Triage: ...


_CATEGORY_WORDS: list[tuple[str, str]] = [
    (
        "reinstatement_request",
        r"reinstat\w*|unsuspend\w*|appeal\w*|reactivat\w*|restore (?:the |their )?account",
    ),
    ("suspension_request", r"suspend\w*|ban(?:ned)?|deactivat\w*|take ?down|block (?:the |this )?account"),
    ("host_report", r"host\w*"),
    ("user_report", r"guest\w*|user report\w*|reported (?:a |the )?user"),
    ("cx_escalation", r"cx|customer|ticket\w*|zendesk|complain\w*|support"),
    ("abuse_inquiry", r"inquir\w*|question|why (?:was|is|were)|law enforcement|subpoena"),
]
_PRIORITY_WORDS: list[tuple[str, str]] = [
    (
        "P1",
        r"urgent|emergenc\w*|threat\w*|violen\w*|self[- ]harm|suicid\w*|child\w*|csam|minor|doxx\w*"
        r"|extort\w*",
    ),
    ("P2", r"fraud\w*|phish\w*|scam\w*|takeover|ato|stolen|chargeback\w*|payment\w*|crypto\w*|impersonat\w*"),
    ("P4", r"fyi|question|no rush|low priority"),
]


class DefaultTriage:
    """Keyword triage until playbooks are written: explainable, and never clever."""

    def triage(self, text: str, accounts: list[str]) -> Triage:
        lowered = text.lower()
        reasons: list[str] = []
        category = "other"
        for name, words in _CATEGORY_WORDS:
            match = re.search(rf"\b(?:{words})\b", lowered)
            if match:
                category = name
                reasons.append(f"category {name}: '{match.group(0)}'")
                break
        priority = "P3"
        for name, words in _PRIORITY_WORDS:
            match = re.search(rf"\b(?:{words})\b", lowered)
            if match:
                priority = name
                reasons.append(f"priority {name}: '{match.group(0)}'")
                break
        return Triage(category=category, priority=priority, reasons=reasons)


# --- account references ----------------------------------------
_SLACK_LINK = re.compile(r"<([^>|]*)(?:\|([^>]*))?>")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_CUE = re.compile(r"(?:account|acct|user|host|guest|id|profile)s?\s*(?:id)?\s*[:#]?\s*$", re.I)


def find_accounts(text: str, pattern: re.Pattern[str], limit: int = 50) -> list[str]:
    """Account ids mentioned in free text.

    The configured pattern matches almost any word, so a token counts only when it has a
    digit and either looks like an id (``acct_123``, ``user:42``) or follows a cue word
    ("account 1234"). Slack mentions and bare links are skipped; a link's label is read.
    """
    plain = _SLACK_LINK.sub(lambda m: f" {m.group(2)} " if m.group(2) else " ", text)
    found: list[str] = []
    for match in _TOKEN.finditer(plain):
        token = match.group(0).rstrip(".:-")
        if not token or token in found or not any(ch.isdigit() for ch in token):
            continue
        if not pattern.fullmatch(token):
            continue
        shaped = "_" in token or ":" in token
        cued = bool(_CUE.search(plain[max(0, match.start() - 24) : match.start()]))
        if shaped or cued:
            found.append(token)
            if len(found) >= limit:
                break
    return found


# --- what adapters render ----------------------------------------
@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str | None
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RuleHitView:
    rule_id: str
    mode: str
    trigger: str
    why: dict[str, Any]
    note: str | None


@dataclass(frozen=True)
class CaseView:
    id: int
    ref: str
    channel: str
    ts: str
    source: str
    author: str | None
    text: str
    category: str
    priority: str
    status: str
    outcome: str | None
    escalations: int
    created_at: datetime
    sla_due_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    card_ts: str | None
    permalink: str | None
    source_deleted: bool
    accounts: list[str] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    second_review: str | None = None
    rule_hits: list[RuleHitView] = field(default_factory=list)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


def view_of(session: Session, case: Case, with_events: bool = False) -> CaseView:
    events = (
        [EventView(e.at, e.actor, e.kind, dict(e.data or {})) for e in store.timeline(session, case.id)]
        if with_events
        else []
    )
    return CaseView(
        id=case.id,
        ref=case.ref,
        channel=case.channel,
        ts=case.ts,
        source=case.source,
        author=case.author,
        text=case.text,
        category=case.category,
        priority=case.priority,
        status=case.status,
        outcome=case.outcome,
        escalations=case.escalations,
        created_at=case.created_at,
        sla_due_at=case.sla_due_at,
        claimed_by=case.claimed_by,
        claimed_at=case.claimed_at,
        resolved_by=case.resolved_by,
        resolved_at=case.resolved_at,
        card_ts=case.card_ts,
        permalink=case.permalink,
        source_deleted=case.source_deleted,
        accounts=store.accounts_of(session, case.id),
        events=events,
        labels=list(case.labels or []),
        recommendations=list(case.recommendations or []),
        second_review=case.second_review,
        rule_hits=[
            RuleHitView(h.rule_id, h.mode, h.trigger, dict(h.why or {}), h.note)
            for h in hits_for(session, "case", case.ref)
        ],
    )


@dataclass(frozen=True)
class SlaState:
    state: Literal["ok", "at_risk", "breached", "met", "missed"]
    remaining: timedelta  # negative once breached


def sla_state(case: CaseView, now: datetime) -> SlaState:
    if case.resolved_at is not None:
        met = case.resolved_at <= case.sla_due_at
        return SlaState("met" if met else "missed", case.sla_due_at - case.resolved_at)
    remaining = case.sla_due_at - now
    total = case.sla_due_at - case.created_at
    if remaining <= timedelta(0):
        return SlaState("breached", remaining)
    if total > timedelta(0) and (now - case.created_at) >= total * NUDGE_AT:
        return SlaState("at_risk", remaining)
    return SlaState("ok", remaining)


# --- ports ----------------------------------------
@dataclass(frozen=True)
class CardRef:
    ts: str
    permalink: str | None


class CaseNotifier(Protocol):
    def post_card(self, case: CaseView) -> CardRef: ...
    def update_card(self, case: CaseView) -> None: ...
    def post_in_thread(self, case: CaseView, text: str) -> None: ...
    def post_alert(self, case: CaseView, text: str) -> None: ...


class CaseRules(Protocol):
    """Playbook rules for cases, run inside the case's transaction (workflows/playbooks.py)."""

    def apply(self, session: Session, case: Case, trigger: str, change: str | None = None) -> Any: ...


# --- the workflow ----------------------------------------
Outcome = Literal[
    "created",
    "exists",
    "claimed",
    "already_yours",
    "taken",
    "released",
    "not_owner",
    "escalated",
    "resolved",
    "already_resolved",
    "not_found",
    "noted",
    "recorded",
]


@dataclass(frozen=True)
class CaseResult:
    outcome: Outcome
    case: CaseView | None = None

    @property
    def changed(self) -> bool:
        return self.outcome in (
            "created",
            "claimed",
            "released",
            "escalated",
            "resolved",
            "noted",
            "recorded",
        )


JOB_CARD_POST = "case.card.post"
JOB_CARD_UPDATE = "case.card.update"
JOB_THREAD = "case.thread"
JOB_ALERT = "case.alert"


class Cases:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        triager: Triager | None = None,
        wake: Callable[[], None] | None = None,
        rules: CaseRules | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.triager: Triager = triager or DefaultTriage()
        self._wake = wake or (lambda: None)
        self.rules = rules

    # intake ----------------------------------------
    def open_case(
        self,
        message: IncomingMessage,
        *,
        source: str = "channel",
        actor: str | None = None,
        overrides: CaseOverrides | None = None,
    ) -> CaseResult:
        now = self.clock.now()
        accounts = find_accounts(message.text, self.config.enforcement.account_id_regex())
        triage = self.triager.triage(message.text, accounts)
        category = (overrides and overrides.category) or triage.category
        priority = (overrides and overrides.priority) or triage.priority
        with self.db.transaction() as session:
            inserted = insert_ignore(
                session,
                Case.__table__,  # type: ignore[arg-type]
                {
                    "channel": message.channel,
                    "ts": message.ts,
                    "source": source,
                    "author": message.user,
                    "author_is_bot": message.is_bot,
                    "text": message.text,
                    "category": category,
                    "priority": priority,
                    "status": NEW,
                    "escalations": 0,
                    "created_at": now,
                    "updated_at": now,
                    "sla_due_at": now + self.config.sla.for_priority(priority),
                    "source_deleted": False,
                },
                ["channel", "ts"],
            )
            case = store.by_source(session, message.channel, message.ts)
            assert case is not None
            if not inserted:
                return CaseResult("exists", view_of(session, case))
            for account in accounts:
                session.add(CaseAccount(case_id=case.id, account_id=account))
            self._event(
                session,
                case,
                actor or message.user,
                "created",
                {
                    "source": source,
                    "category": category,
                    "priority": priority,
                    # What built-in triage said, before rules: what a backtest replays.
                    "triage": {
                        "category": triage.category,
                        "priority": triage.priority,
                        "reasons": triage.reasons,
                    },
                    "overridden": bool(overrides and (overrides.category or overrides.priority)),
                },
            )
            if self.rules is not None:
                self.rules.apply(session, case, "case.created")
                # An analyst who picked category and priority in the shortcut has the last word.
                if overrides and overrides.category:
                    case.category = overrides.category
                if overrides and overrides.priority:
                    case.priority = overrides.priority
                    case.sla_due_at = case.created_at + self.config.sla.for_priority(case.priority)
                session.flush()
            enqueue(session, self.clock, JOB_CARD_POST, {"case_id": case.id}, key=f"case-card:{case.id}")
            view = view_of(session, case)
        CASES_OPENED.labels(category=view.category, priority=view.priority).inc()
        self._wake()
        return CaseResult("created", view)

    # state changes --------------------------------------------------------------------------------------
    def claim(self, case_id: int, user: str) -> CaseResult:
        with self.db.transaction() as session:
            now = self.clock.now()
            case, won = self._decide(
                session,
                case_id,
                (Case.claimed_by.is_(None), Case.status != RESOLVED),
                claimed_by=user,
                claimed_at=now,
                status=CLAIMED,
                updated_at=now,
            )
            if case is None:
                return CaseResult("not_found")
            if not won:
                if case.status == RESOLVED:
                    return CaseResult("already_resolved", view_of(session, case))
                return CaseResult(
                    "already_yours" if case.claimed_by == user else "taken", view_of(session, case)
                )
            self._event(session, case, user, "claimed", {})
            return self._changed(session, case, "claimed")

    def release(self, case_id: int, user: str) -> CaseResult:
        with self.db.transaction() as session:
            now = self.clock.now()
            case, won = self._decide(
                session,
                case_id,
                (Case.claimed_by == user, Case.status == CLAIMED),
                claimed_by=None,
                claimed_at=None,
                status=NEW,
                updated_at=now,
            )
            if case is None:
                return CaseResult("not_found")
            if not won:
                return CaseResult("not_owner", view_of(session, case))
            self._event(session, case, user, "released", {})
            return self._changed(session, case, "released")

    def escalate(self, case_id: int, user: str) -> CaseResult:
        with self.db.transaction() as session:
            # The row lock (SQLite: the write lock) makes two escalations at once raise the
            # priority twice, one level each, never lose one.
            case = session.get(Case, case_id, with_for_update=True)
            if case is None:
                return CaseResult("not_found")
            if case.status == RESOLVED:
                return CaseResult("already_resolved", view_of(session, case))
            before = case.priority
            after = PRIORITIES[max(0, PRIORITIES.index(before) - 1)]
            case.priority = after
            case.escalations += 1
            case.updated_at = self.clock.now()
            case.sla_due_at = case.created_at + self.config.sla.for_priority(after)
            session.flush()
            self._event(session, case, user, "escalated", {"from": before, "to": after})
            text = (
                f"{case.ref} escalated {before} → {after} by <@{user}>"
                if before != after
                else f"{case.ref} escalated again at {after} by <@{user}>"
            )
            enqueue(
                session,
                self.clock,
                JOB_ALERT,
                {"case_id": case.id, "text": text},
                key=f"case-escalated:{case.id}:{case.escalations}",
            )
            return self._changed(session, case, "escalated")

    def resolve(self, case_id: int, user: str, outcome: str, note: str | None = None) -> CaseResult:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        with self.db.transaction() as session:
            now = self.clock.now()
            case, won = self._decide(
                session,
                case_id,
                (Case.status != RESOLVED,),
                status=RESOLVED,
                outcome=outcome,
                resolved_by=user,
                resolved_at=now,
                updated_at=now,
            )
            if case is None:
                return CaseResult("not_found")
            if not won:
                return CaseResult("already_resolved", view_of(session, case))
            self._event(session, case, user, "resolved", {"outcome": outcome, "note": note})
            CASES_RESOLVED.labels(outcome=outcome).inc()
            return self._changed(session, case, "resolved")

    # the conversation around a case ---------------------------------------------------------------
    def add_note(self, channel: str, thread_ts: str, message: IncomingMessage) -> CaseResult:
        with self.db.transaction() as session:
            case = store.by_source(session, channel, thread_ts)
            if case is None:
                return CaseResult("not_found")
            self._event(session, case, message.user, "note", {"ts": message.ts, "text": message.text})
            return CaseResult("noted", view_of(session, case))

    def record_edit(
        self, channel: str, ts: str, new_text: str, previous_text: str | None, user: str | None
    ) -> CaseResult:
        with self.db.transaction() as session:
            case = store.by_source(session, channel, ts)
            if case is not None:
                self._event(
                    session, case, user, "message_edited", {"text": new_text, "previous": previous_text}
                )
                return CaseResult("recorded", view_of(session, case))
            # An edit of a note in a case's thread is kept too.
            note = session.scalars(
                select(CaseEvent)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(
                    Case.channel == channel, CaseEvent.kind == "note", CaseEvent.data["ts"].as_string() == ts
                )
            ).first()
            if note is None:
                return CaseResult("not_found")
            owner = session.get(Case, note.case_id)
            assert owner is not None
            self._event(
                session, owner, user, "note_edited", {"ts": ts, "text": new_text, "previous": previous_text}
            )
            return CaseResult("recorded", view_of(session, owner))

    def record_deletion(self, channel: str, ts: str, previous_text: str | None) -> CaseResult:
        with self.db.transaction() as session:
            case = store.by_source(session, channel, ts)
            if case is None:
                return CaseResult("not_found")
            case.source_deleted = True
            case.updated_at = self.clock.now()
            self._event(session, case, None, "message_deleted", {"previous": previous_text})
            return self._changed(session, case, "recorded")

    # reading ----------------------------------------
    def get(self, case_id: int, with_events: bool = True) -> CaseView | None:
        with self.db.read() as session:
            case = session.get(Case, case_id)
            return view_of(session, case, with_events) if case else None

    def by_source(self, channel: str, ts: str) -> CaseView | None:
        with self.db.read() as session:
            case = store.by_source(session, channel, ts)
            return view_of(session, case) if case else None

    def queue(self, limit: int = 20) -> tuple[list[CaseView], int]:
        """Open cases, most urgent first (priority, then SLA due); and how many there are in all."""
        with self.db.read() as session:
            open_cases = select(Case).where(Case.status != RESOLVED)
            total = session.scalar(select(func.count()).select_from(open_cases.subquery())) or 0
            rows = session.scalars(open_cases.order_by(Case.priority, Case.sla_due_at, Case.id).limit(limit))
            return [view_of(session, case) for case in rows], total

    def home(self, user: str, limit: int = 10) -> HomeData:
        now = self.clock.now()
        with self.db.read() as session:
            base = (
                select(Case).where(Case.status != RESOLVED).order_by(Case.priority, Case.sla_due_at, Case.id)
            )
            mine = [
                view_of(session, c) for c in session.scalars(base.where(Case.claimed_by == user).limit(limit))
            ]
            unclaimed = [
                view_of(session, c)
                for c in session.scalars(base.where(Case.claimed_by.is_(None)).limit(limit))
            ]
            risky = [
                view_of(session, c)
                for c in session.scalars(
                    base.where(Case.sla_due_at <= now + self._longest_sla_quarter()).limit(200)
                )
            ]
        at_risk = [c for c in risky if sla_state(c, now).state in ("at_risk", "breached")][:limit]
        return HomeData(mine=mine, unclaimed=unclaimed, at_risk=at_risk, now=now)

    def _longest_sla_quarter(self) -> timedelta:
        return max(self.config.sla.for_priority(p) for p in PRIORITIES) * (1 - NUDGE_AT)

    # SLA ----------------------------------------
    def check_sla(self) -> SlaReport:
        """Queue one nudge at 75% of the SLA and one breach notice at 100%, ever, per case.

        The marks are conditional UPDATEs and the posts are jobs with unique keys, so two
        replicas (or `vigil sla check` beside the scheduler) never post twice.
        """
        now = self.clock.now()
        report = SlaReport()
        with self.db.transaction() as session:
            candidates = session.scalars(
                select(Case).where(
                    Case.status != RESOLVED,
                    Case.sla_due_at <= now + self._longest_sla_quarter(),
                    Case.sla_breached_at.is_(None),
                )
            ).all()
            for case in candidates:
                view = view_of(session, case)
                state = sla_state(view, now).state
                if state == "breached" and self._mark(session, case.id, Case.sla_breached_at, now):
                    self._event(session, case, None, "sla_breached", {"due": case.sla_due_at.isoformat()})
                    owner = f", claimed by <@{case.claimed_by}>" if case.claimed_by else ", unclaimed"
                    enqueue(
                        session,
                        self.clock,
                        JOB_ALERT,
                        {
                            "case_id": case.id,
                            "text": f":rotating_light: {case.ref} ({case.priority}) breached its SLA{owner}.",
                        },
                        key=f"sla-breach:{case.id}",
                    )
                    report.breached.append(case.ref)
                elif state in ("at_risk", "breached") and self._mark(
                    session, case.id, Case.sla_nudged_at, now
                ):
                    self._event(session, case, None, "sla_nudged", {"due": case.sla_due_at.isoformat()})
                    who = f"<@{case.claimed_by}>" if case.claimed_by else "Nobody has claimed it yet"
                    enqueue(
                        session,
                        self.clock,
                        JOB_THREAD,
                        {
                            "case_id": case.id,
                            "text": f":hourglass_flowing_sand: {case.ref} is 75% through its "
                            f"{case.priority} SLA. {who}.",
                        },
                        key=f"sla-nudge:{case.id}",
                    )
                    report.nudged.append(case.ref)
        if report.nudged or report.breached:
            self._wake()
        return report

    @staticmethod
    def _decide(
        session: Session, case_id: int, conditions: tuple[Any, ...], **values: Any
    ) -> tuple[Case | None, bool]:
        """Change a case only if ``conditions`` still hold, in one statement (never read, then
        write): a double click or two people at once get exactly one winner. Returns the case
        as it stands now and whether this call won."""
        won = session.execute(
            update(Case).where(Case.id == case_id, *conditions).values(**values).returning(Case.id)
        ).first()
        case = session.get(Case, case_id)
        if case is not None and won:
            session.refresh(case)
        return case, won is not None

    @staticmethod
    def _mark(session: Session, case_id: int, column: Any, now: datetime) -> bool:
        return (
            session.execute(
                update(Case)
                .where(Case.id == case_id, column.is_(None))
                .values({column.key: now})
                .returning(Case.id)
            ).first()
            is not None
        )

    # internals ----------------------------------------
    def _event(
        self, session: Session, case: Case, actor: str | None, kind: str, data: dict[str, Any]
    ) -> None:
        timeline.note(session, case.id, kind, data, at=self.clock.now(), actor=actor)

    def _changed(self, session: Session, case: Case, outcome: Outcome) -> CaseResult:
        if self.rules is not None:
            self.rules.apply(session, case, "case.updated", change=outcome)
        enqueue(session, self.clock, JOB_CARD_UPDATE, {"case_id": case.id})
        view = view_of(session, case)
        self._wake()
        return CaseResult(outcome, view)

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: CaseNotifier) -> None:
        def post_card(payload: dict[str, Any]) -> None:
            case = self._job_case(payload)
            if case.card_ts:
                return  # posted already (a retried job after the write landed)
            ref = notifier.post_card(case)
            with self.db.transaction() as session:
                session.execute(
                    update(Case)
                    .where(Case.id == case.id, Case.card_ts.is_(None))
                    .values(card_ts=ref.ts, permalink=ref.permalink)
                )
                timeline.note(session, case.id, "card_posted", {"ts": ref.ts}, at=self.clock.now())
            # Jobs run side by side: a change that landed while the card was being posted
            # found no card to update and left it to us. Catch up once, now that it exists.
            latest = self._job_case(payload)
            if _shown(latest) != _shown(case):
                notifier.update_card(latest)

        def update_card(payload: dict[str, Any]) -> None:
            case = self._job_case(payload)
            if not case.card_ts:
                return  # not posted yet: the post job renders the latest state (see post_card)
            notifier.update_card(case)

        def thread(payload: dict[str, Any]) -> None:
            notifier.post_in_thread(self._job_case(payload), payload["text"])

        def alert(payload: dict[str, Any]) -> None:
            notifier.post_alert(self._job_case(payload), payload["text"])

        runner.register(JOB_CARD_POST, post_card)
        runner.register(JOB_CARD_UPDATE, update_card)
        runner.register(JOB_THREAD, thread)
        runner.register(JOB_ALERT, alert)

    def _job_case(self, payload: dict[str, Any]) -> CaseView:
        case = self.get(int(payload["case_id"]), with_events=False)
        if case is None:
            raise PermanentJobError(f"case {payload['case_id']} does not exist")
        return case


def _shown(case: CaseView) -> CaseView:
    """What the card shows, without where it is."""
    return replace(case, card_ts=None, permalink=None, events=[])


@dataclass
class SlaReport:
    nudged: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HomeData:
    mine: list[CaseView]
    unclaimed: list[CaseView]
    at_risk: list[CaseView]
    now: datetime

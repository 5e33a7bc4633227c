"""The case use cases: open a case, claim, release, escalate, resolve, keep the conversation
around it (notes, edits, deletions), check the SLA, and read the queue and App Home.

Every state change is one conditional UPDATE in store/cases.py (never read-then-write),
written with its timeline entry in the same transaction; Slack side effects (card, nudges,
alerts) are queued as jobs in that transaction too (jobs.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from store import cases as store
from store.cases import Case
from store.db import Database
from workflows.cases import jobs as case_jobs
from workflows.cases import timeline
from workflows.cases.intake import CaseOverrides, IncomingMessage, find_accounts
from workflows.cases.ports import CaseDecisionHook, CaseNotifier, CaseRuleHook, CaseSuggestionHook
from workflows.cases.triage import PRIORITIES, DefaultTriage, Triager
from workflows.cases.views import (
    NEW,
    NUDGE_AT,
    OUTCOMES,
    RESOLVED,
    CaseNotice,
    CaseResult,
    CaseView,
    HomeData,
    Outcome,
    SlaReport,
    sla_state,
    view_of,
)
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.jobs import JobRunner
from workflows.metrics import CASES_OPENED, CASES_RESOLVED


class Cases:
    """The facade adapters call: one unit of work per method, each in its own transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        jobs: JobRunner,
        *,
        triager: Triager | None = None,
        rules: CaseRuleHook | None = None,
        suggestions: CaseSuggestionHook | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.jobs = jobs
        self.triager: Triager = triager or DefaultTriage()
        self.rules = rules
        self.suggestions = suggestions
        # Set by the runtime once decisions exist (they are built after cases).
        self.decided: CaseDecisionHook | None = None

    def register_jobs(self, notifier: CaseNotifier) -> None:
        case_jobs.register_handlers(self.jobs, self.db, self.clock, notifier)

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
        # An appeal's deadline is sla.appeal (DSA Art. 20), whatever its priority.
        sla = self.config.sla.appeal if category == "appeal" else None
        priority = (overrides and overrides.priority) or triage.priority
        with self.db.transaction() as session:
            inserted = store.add_case_unless_exists(
                session,
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
                    "sla_due_at": now + (sla or self.config.sla.for_priority(priority)),
                    "source_deleted": False,
                },
            )
            case = store.case_by_source(session, message.channel, message.ts)
            assert case is not None
            if not inserted:
                return CaseResult("exists", view_of(session, case))
            store.add_accounts(session, case.id, accounts)
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
                    if case.category != "appeal":
                        case.sla_due_at = case.created_at + self.config.sla.for_priority(case.priority)
                session.flush()
            case_jobs.post_card_later(session, self.clock, case.id)
            if self.suggestions is not None:
                self.suggestions.queue(session, case.id)
            view = view_of(session, case)
        CASES_OPENED.labels(category=view.category, priority=view.priority).inc()
        self.jobs.wake()
        return CaseResult("created", view)

    # state changes ----------------------------------------
    def claim(self, case_id: int, user: str) -> CaseResult:
        with self.db.transaction() as session:
            won = store.claim_if_unclaimed(session, case_id, user, self.clock.now())
            case = store.case_by_id(session, case_id)
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
            won = store.release_if_owner(session, case_id, user, self.clock.now())
            case = store.case_by_id(session, case_id)
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
            case = store.lock_case(session, case_id)
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
            case_jobs.alert_later(
                session,
                self.clock,
                case.id,
                CaseNotice("escalated", {"from": before, "to": after, "by": user}),
                key=f"case-escalated:{case.id}:{case.escalations}",
            )
            return self._changed(session, case, "escalated")

    def resolve(self, case_id: int, user: str, outcome: str, note: str | None = None) -> CaseResult:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        with self.db.transaction() as session:
            won = store.resolve_if_open(session, case_id, user, outcome, self.clock.now())
            case = store.case_by_id(session, case_id)
            if case is None:
                return CaseResult("not_found")
            if not won:
                return CaseResult("already_resolved", view_of(session, case))
            self._event(session, case, user, "resolved", {"outcome": outcome, "note": note})
            if self.suggestions is not None:
                self.suggestions.resolved(session, case)
            if self.decided is not None:
                self.decided.case_resolved(session, case, outcome)
            CASES_RESOLVED.labels(outcome=outcome).inc()
            return self._changed(session, case, "resolved")

    # the conversation around a case ----------------------------------------
    def add_note(self, channel: str, thread_ts: str, message: IncomingMessage) -> CaseResult:
        with self.db.transaction() as session:
            case = store.case_by_source(session, channel, thread_ts)
            if case is None:
                return CaseResult("not_found")
            self._event(session, case, message.user, "note", {"ts": message.ts, "text": message.text})
            return CaseResult("noted", view_of(session, case))

    def record_edit(
        self, channel: str, ts: str, new_text: str, previous_text: str | None, user: str | None
    ) -> CaseResult:
        with self.db.transaction() as session:
            case = store.case_by_source(session, channel, ts)
            if case is not None:
                self._event(
                    session, case, user, "message_edited", {"text": new_text, "previous": previous_text}
                )
                return CaseResult("recorded", view_of(session, case))
            # An edit of a note in a case's thread is kept too.
            owner = store.case_of_note(session, channel, ts)
            if owner is None:
                return CaseResult("not_found")
            self._event(
                session, owner, user, "note_edited", {"ts": ts, "text": new_text, "previous": previous_text}
            )
            return CaseResult("recorded", view_of(session, owner))

    def record_deletion(self, channel: str, ts: str, previous_text: str | None) -> CaseResult:
        with self.db.transaction() as session:
            case = store.case_by_source(session, channel, ts)
            if case is None:
                return CaseResult("not_found")
            case.source_deleted = True
            case.updated_at = self.clock.now()
            self._event(session, case, None, "message_deleted", {"previous": previous_text})
            return self._changed(session, case, "recorded")

    # reading ----------------------------------------
    def get(self, case_id: int, with_events: bool = True) -> CaseView | None:
        with self.db.read() as session:
            case = store.case_by_id(session, case_id)
            return view_of(session, case, with_events) if case else None

    def by_source(self, channel: str, ts: str) -> CaseView | None:
        with self.db.read() as session:
            case = store.case_by_source(session, channel, ts)
            return view_of(session, case) if case else None

    def queue(self, limit: int = 20) -> tuple[list[CaseView], int]:
        """Open cases, most urgent first (priority, then SLA due); and how many there are in all."""
        with self.db.read() as session:
            total = store.count_open_cases(session)
            return [view_of(session, case) for case in store.most_urgent_open_cases(session, limit)], total

    def home(self, user: str, limit: int = 10) -> HomeData:
        now = self.clock.now()
        with self.db.read() as session:
            mine = [view_of(session, c) for c in store.open_cases_claimed_by(session, user, limit)]
            unclaimed = [view_of(session, c) for c in store.unclaimed_open_cases(session, limit)]
            risky = [
                view_of(session, c)
                for c in store.open_cases_due_by(session, now + self._longest_sla_quarter(), 200)
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
            candidates = store.open_cases_due_by_never_breached(session, now + self._longest_sla_quarter())
            for case in candidates:
                state = sla_state(view_of(session, case), now).state
                # What the notice says is how things stood when it was queued.
                fields = {"priority": case.priority, "owner": case.claimed_by}
                if state == "breached" and store.mark_sla_breached_once(session, case.id, now):
                    self._event(session, case, None, "sla_breached", {"due": case.sla_due_at.isoformat()})
                    case_jobs.alert_later(
                        session,
                        self.clock,
                        case.id,
                        CaseNotice("sla_breached", fields),
                        key=f"sla-breach:{case.id}",
                    )
                    report.breached.append(case.ref)
                elif state in ("at_risk", "breached") and store.mark_sla_nudged_once(session, case.id, now):
                    self._event(session, case, None, "sla_nudged", {"due": case.sla_due_at.isoformat()})
                    case_jobs.post_in_thread_later(
                        session,
                        self.clock,
                        case.id,
                        CaseNotice("sla_nudged", fields),
                        key=f"sla-nudge:{case.id}",
                    )
                    report.nudged.append(case.ref)
        if report.nudged or report.breached:
            self.jobs.wake()
        return report

    # internals ----------------------------------------
    def _event(
        self, session: Session, case: Case, actor: str | None, kind: str, data: dict[str, Any]
    ) -> None:
        timeline.note(session, case.id, kind, data, at=self.clock.now(), actor=actor)

    def _changed(self, session: Session, case: Case, outcome: Outcome) -> CaseResult:
        if self.rules is not None:
            self.rules.apply(session, case, "case.updated", change=outcome)
        case_jobs.update_card_later(session, self.clock, case.id)
        view = view_of(session, case)
        self.jobs.wake()
        return CaseResult(outcome, view)

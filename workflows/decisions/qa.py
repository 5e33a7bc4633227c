"""QA sampling of decisions: every day a share (``qa.rate``) of the resolved cases and executed
enforcement actions is drawn, stratified by category and by the person who decided, and each is
given to someone else for a blind re-review (the original decision is shown only after they
answer). Nobody re-reviews a decision they took part in; nobody gets more than ``qa.max_per_day``.

The draw is seeded by the day, so re-running a day's sampling draws the same items (and the
unique key on the item makes a second run add nothing).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from store import cases as case_store
from store import decisions as store
from store import enforcement as ledger
from store.db import Database
from store.decisions import QaReview
from store.enforcement import EnforcementAction
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.decisions.appeals import AppealIn, Appeals
from workflows.decisions.errors import AppealRefused
from workflows.jobs import JobRunner, enqueue
from workflows.periods import local_midnight

ASSIGNED_JOB = "qa.assigned"
ESCALATE_JOB = "qa.escalate"  # one per re-review (its key), so a double click opens one case


@dataclass(frozen=True)
class Item:
    kind: str  # case | action
    item_id: int
    ref: str
    category: str
    outcome: str
    decider: str
    involved: frozenset[str]  # who may not re-review it


def stratified_sample(items: Sequence[Item], rate: float, seed: int) -> list[Item]:
    """``ceil(rate * n)`` items, shared among the (category, decider) strata in proportion to
    their size (largest remainders first), drawn at random inside each stratum."""
    if not items:
        return []
    rng = random.Random(seed)
    strata: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.kind, i.item_id)):
        strata[(item.category, item.decider)].append(item)
    total = math.ceil(rate * len(items))
    shares = {key: rate * len(group) for key, group in strata.items()}
    quota = {key: math.floor(share) for key, share in shares.items()}
    left = total - sum(quota.values())
    keys = sorted(strata)
    rng.shuffle(keys)  # ties in the remainder go to a random stratum, not always the first
    for key in sorted(keys, key=lambda k: shares[k] - quota[k], reverse=True)[:left]:
        quota[key] += 1
    sample: list[Item] = []
    for key in sorted(strata):
        sample += rng.sample(strata[key], min(quota[key], len(strata[key])))
    return sample


def assign(
    sample: Sequence[Item], reviewers: Sequence[str], max_per_day: int, load: dict[str, int]
) -> list[tuple[Item, str | None]]:
    """Each item to the least loaded reviewer who had no part in it and has room today."""
    load = dict(load)
    out: list[tuple[Item, str | None]] = []
    for item in sample:
        free = [r for r in reviewers if r not in item.involved and load.get(r, 0) < max_per_day]
        chosen = min(free, key=lambda r: (load.get(r, 0), r)) if free else None
        if chosen is not None:
            load[chosen] = load.get(chosen, 0) + 1
        out.append((item, chosen))
    return out


@dataclass(frozen=True)
class QaAnswer:
    outcome: str
    category: str
    would_action: bool
    note: str = ""


@dataclass(frozen=True)
class QaRun:
    day: date
    candidates: int
    sampled: int
    unassigned: int


@dataclass(frozen=True)
class QaItemView:
    id: int
    kind: str
    ref: str
    reviewer: str | None
    answered: bool
    category: str
    outcome: str
    decider: str
    answer_outcome: str | None
    answer_category: str | None
    details: str = ""  # what the reviewer sees: the case's message, or the request's evidence and note

    @property
    def agreed(self) -> bool | None:
        return None if self.answer_outcome is None else self.answer_outcome == self.outcome


class QaNotifier(Protocol):
    def assigned(self, review: QaItemView) -> None: ...
    def escalated(self, review: QaItemView, case_ref: str) -> None: ...


@dataclass(frozen=True)
class Escalation:
    """What a click on Escalate did: queued the appeal review, or found it under way or open."""

    queued: bool
    case_ref: str | None = None  # the appeal review's case, once it is open


def _details(session: Session, row: QaReview) -> str:
    if row.kind == "case":
        found = case_store.case_by_id(session, row.item_id)
        return found.text if found is not None else ""
    action = session.get(EnforcementAction, row.item_id)
    request = ledger.get_request(session, action.request_id) if action is not None else None
    if action is None or request is None:
        return ""
    return f"Account {action.account_id}. Evidence: {request.evidence or '-'}. Note: {request.note or '-'}"


def _view(row: QaReview, details: str = "") -> QaItemView:
    return QaItemView(
        details=details,
        id=row.id,
        kind=row.kind,
        ref=row.item_ref,
        reviewer=row.reviewer,
        answered=row.answered_at is not None,
        category=row.category,
        outcome=row.outcome,
        decider=row.decider,
        answer_outcome=row.answer_outcome,
        answer_category=row.answer_category,
    )


class Qa:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        jobs: JobRunner | None = None,
        appeals: Appeals | None = None,
    ) -> None:
        self.appeals = appeals
        self.db = db
        self.clock = clock
        self.config = config
        self.jobs = jobs

    def reviewers(self) -> list[str]:
        """Analysts and approvers named by user id (user groups are not expanded here)."""
        named = [*self.config.roles.analysts, *self.config.roles.approvers]
        return sorted({p for p in named if p[:1] in ("U", "W")})

    def register_jobs(self, jobs: JobRunner, notifier: QaNotifier) -> None:
        def run(payload: dict[str, Any]) -> None:
            view = self.get(int(payload["review"]))
            if view is not None and not view.answered:
                notifier.assigned(view)

        def escalate(payload: dict[str, Any]) -> None:
            view = self.get(int(payload["review"]))
            if view is None or self.appeals is None:
                return
            notifier.escalated(view, self.appeals.receive(self._appeal_of(view), internal=True).case_ref)

        jobs.register(ASSIGNED_JOB, run)
        jobs.register(ESCALATE_JOB, escalate)

    def sample_day(self, day: date) -> QaRun:
        tz = self.config.tz
        start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
        now = self.clock.now()
        with self.db.transaction() as session:
            items = [
                Item("case", cid, f"CASE-{cid}", category, outcome, by, frozenset({by}))
                for cid, category, outcome, by in store.resolved_cases(session, start, end)
            ] + [
                Item("action", aid, ref, reason, "actioned", by, frozenset(involved))
                for aid, ref, reason, by, involved in store.executed_actions(session, start, end)
            ]
            done = store.qa_already(session, "case", [i.item_id for i in items if i.kind == "case"])
            done_actions = store.qa_already(
                session, "action", [i.item_id for i in items if i.kind == "action"]
            )
            if done or done_actions:  # the day was sampled already: the same draw, nothing new
                existing = store.qa_sampled_on(session, day)
                return QaRun(day, len(items), len(existing), sum(1 for r in existing if r.reviewer is None))
            sample = stratified_sample(items, self.config.qa.rate, seed=day.toordinal())
            load: dict[str, int] = defaultdict(int)
            for row in store.qa_sampled_on(session, day):
                if row.reviewer:
                    load[row.reviewer] += 1
            unassigned = 0
            for item, reviewer in assign(sample, self.reviewers(), self.config.qa.max_per_day, load):
                row = QaReview(
                    kind=item.kind,
                    item_id=item.item_id,
                    item_ref=item.ref,
                    category=item.category,
                    outcome=item.outcome,
                    decider=item.decider,
                    reviewer=reviewer,
                    sampled_on=day,
                    assigned_at=now,
                )
                session.add(row)
                session.flush()
                if reviewer is None:
                    unassigned += 1
                else:
                    enqueue(session, self.clock, ASSIGNED_JOB, {"review": row.id}, key=f"qa:{row.id}")
        if self.jobs is not None:
            self.jobs.wake()
        return QaRun(day, len(items), len(sample), unassigned)

    def get(self, review_id: int) -> QaItemView | None:
        with self.db.read() as session:
            row = session.get(QaReview, review_id)
            return _view(row, _details(session, row)) if row is not None else None

    def pending_for(self, user: str, limit: int = 20) -> list[QaItemView]:
        with self.db.read() as session:
            return [_view(row) for row in store.qa_pending_for(session, user, limit)]

    def answer(self, review_id: int, user: str, answer: QaAnswer) -> QaItemView:
        """Record the re-review (once, only by its reviewer); the original is revealed after."""
        now = self.clock.now()
        with self.db.transaction() as session:
            row = session.get(QaReview, review_id, with_for_update=True)
            if row is None:
                raise AppealRefused("qa_not_found", 404, review=review_id)
            if row.reviewer != user:
                raise AppealRefused("qa_not_yours", 403, review=review_id)
            if row.answered_at is not None:
                raise AppealRefused("qa_answered", review=review_id)
            row.answer_outcome, row.answer_category = answer.outcome, answer.category
            row.would_action, row.note, row.answered_at = (
                answer.would_action,
                answer.note.strip() or None,
                now,
            )
            session.flush()
            return _view(row)

    def escalate(self, review_id: int, user: str) -> Escalation:
        """A disagreement on an enforcement action, by its reviewer, becomes an appeal-style
        review (a case of category appeal, decided independently; the platform is not told).
        The case is opened by a job keyed by the re-review: clicks that cross each other queue
        it once, so there is one case however often the button is pressed."""
        view = self.get(review_id)
        if view is None:
            raise AppealRefused("qa_not_found", 404, review=review_id)
        if view.reviewer != user:
            raise AppealRefused("qa_not_yours", 403, review=review_id)
        if view.kind != "action" or view.agreed is not False or self.appeals is None:
            raise AppealRefused("qa_not_escalable", review=review_id)
        with self.db.transaction() as session:
            existing = store.appeal_by_platform_id(session, f"qa-{review_id}")
            if existing is not None:
                return Escalation(False, f"CASE-{existing.case_id}")
            queued = enqueue(
                session, self.clock, ESCALATE_JOB, {"review": review_id}, key=f"qa-escalate:{review_id}"
            )
        if queued and self.jobs is not None:
            self.jobs.wake()
        return Escalation(queued)

    @staticmethod
    def _appeal_of(view: QaItemView) -> AppealIn:
        request_ref, _, account = view.ref.partition(":")
        text = (
            f"QA re-review {view.id} disagreed: {view.reviewer} would have decided {view.answer_outcome} "
            f"({view.answer_category}), the original was {view.outcome} ({view.category})."
        )
        return AppealIn(appeal_id=f"qa-{view.id}", account_id=account, request_id=request_ref, text=text)

    def agreement(self, start: datetime, end: datetime, by: str = "category") -> list[tuple[str, int, int]]:
        with self.db.read() as session:
            return store.qa_agreement(session, start, end, by)

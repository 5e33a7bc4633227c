"""The aggregate queries reports are made of, and the row streams of the exports.

Every figure is computed by the database (GROUP BY, conditional sums, window functions),
never by loading rows into Python: a week of 100,000 cases must stay a handful of
queries with flat memory. Time buckets (days, weeks in the config's timezone, DST
included) are computed in Python as UTC boundaries and passed in; the database only
compares timestamps, which both SQLite and PostgreSQL do the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, and_, case, func, literal, select
from sqlalchemy.orm import Session

from store.cases import Case
from store.decisions import OVERTURNED, AppealRow
from store.enforcement import DONE, EXECUTED, FAILED, MANUAL, RETRYABLE, EnforcementAction, EnforcementRequest
from store.playbooks import RuleHit


# --- time arithmetic in SQL -------------------------------------------------------------------
def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    # SQLite keeps naive UTC text; julianday reads it (day fractions → seconds).
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def bucket_of(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """Index i of the bucket [bounds[i], bounds[i+1]) a timestamp falls in (filter to the range first).

    A balanced tree of CASEs: ~log2(n) comparisons per row instead of n (56 days → 6)."""

    def tree(lo: int, hi: int) -> Any:  # buckets lo..hi-1
        if hi - lo == 1:
            return literal(lo)
        mid = (lo + hi) // 2
        return case((column < bounds[mid], tree(lo, mid)), else_=tree(mid, hi))

    return tree(0, len(bounds) - 1)


# --- cases -----------------------------------------------------------------------------------------
def volume_two(
    session: Session,
    current: tuple[datetime, datetime],
    previous: tuple[datetime, datetime],
    category: str | None = None,
) -> dict[tuple[str, str], tuple[int, int]]:
    """(category, source) → (cases created in ``current``, in ``previous``), in one pass."""
    in_current = and_(Case.created_at >= current[0], Case.created_at < current[1])
    in_previous = and_(Case.created_at >= previous[0], Case.created_at < previous[1])
    query = select(
        Case.category,
        Case.source,
        func.sum(case((in_current, 1), else_=0)),
        func.sum(case((in_previous, 1), else_=0)),
    ).where(Case.created_at >= min(current[0], previous[0]), Case.created_at < max(current[1], previous[1]))
    if category:
        query = query.where(Case.category == category)
    rows = session.execute(query.group_by(Case.category, Case.source))
    return {(cat, src): (int(now or 0), int(before or 0)) for cat, src, now, before in rows}


def daily_volume(
    session: Session, bounds: Sequence[datetime], category: str | None = None
) -> dict[tuple[int, str], int]:
    """(day index, category) → cases created; ``bounds`` are the local midnights in UTC."""
    day = bucket_of(Case.created_at, bounds).label("day")
    query = select(day, Case.category, func.count()).where(
        Case.created_at >= bounds[0], Case.created_at < bounds[-1]
    )
    if category:
        query = query.where(Case.category == category)
    rows = session.execute(query.group_by(day, Case.category))
    return {(int(index), cat): int(count) for index, cat, count in rows}


@dataclass(frozen=True)
class SlaRow:
    due: int
    met: int


def sla_by_priority(
    session: Session, start: datetime, end: datetime, category: str | None = None
) -> dict[str, SlaRow]:
    """Cases whose SLA came due in [start, end): met when resolved by then; unresolved is missed."""
    met = func.sum(
        case((and_(Case.resolved_at.is_not(None), Case.resolved_at <= Case.sla_due_at), 1), else_=0)
    )
    query = select(Case.priority, func.count(), met).where(Case.sla_due_at >= start, Case.sla_due_at < end)
    if category:
        query = query.where(Case.category == category)
    rows = session.execute(query.group_by(Case.priority))
    return {priority: SlaRow(int(due), int(hit or 0)) for priority, due, hit in rows}


def sla_trend(session: Session, bounds: Sequence[datetime]) -> dict[int, SlaRow]:
    """Week index → SLA due and met, for the weeks between ``bounds``."""
    week = bucket_of(Case.sla_due_at, bounds).label("week")
    met = func.sum(
        case((and_(Case.resolved_at.is_not(None), Case.resolved_at <= Case.sla_due_at), 1), else_=0)
    )
    rows = session.execute(
        select(week, func.count(), met)
        .where(Case.sla_due_at >= bounds[0], Case.sla_due_at < bounds[-1])
        .group_by(week)
    )
    return {int(index): SlaRow(int(due), int(hit or 0)) for index, due, hit in rows}


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float | None  # seconds
    p90: float | None


Step = Literal["claim", "resolve"]


def percentiles_by_priority(
    session: Session, step: Step, start: datetime, end: datetime, category: str | None = None
) -> dict[str, Percentiles]:
    """Median and p90 (nearest rank) of the time from creation to the claim or the resolution,
    for cases claimed (resolved) in [start, end), per priority and over all (key ``"all"``).

    Ranks come from window functions (per priority and overall, in one sort pass), so the
    database sorts and only a few numbers per group come back. Nearest rank: the value at
    rank ceil(p·n), in integer arithmetic so both databases agree.
    """
    at = Case.claimed_at if step == "claim" else Case.resolved_at
    seconds = seconds_between(session, at, Case.created_at)
    where = [at.is_not(None), at >= start, at < end]
    if category:
        where.append(Case.category == category)
    ranked = (
        select(
            Case.priority.label("g"),
            seconds.label("d"),
            func.row_number().over(partition_by=Case.priority, order_by=seconds).label("rn"),
            func.count().over(partition_by=Case.priority).label("n"),
            func.row_number().over(order_by=seconds).label("rn_all"),
            func.count().over().label("n_all"),
        )
        .where(*where)
        .subquery()
    )
    c = ranked.c

    def at_rank(rank: Any, n: Any, p50: bool) -> Any:
        wanted = (n + 1) // 2 if p50 else (n * 9 + 9) // 10
        return func.max(case((rank == wanted, c.d)))

    rows = session.execute(
        select(
            c.g,
            c.n,
            at_rank(c.rn, c.n, True),
            at_rank(c.rn, c.n, False),
            func.max(c.n_all),
            at_rank(c.rn_all, c.n_all, True),
            at_rank(c.rn_all, c.n_all, False),
        ).group_by(c.g, c.n)
    ).all()
    result: dict[str, Percentiles] = {}
    overall: list[float | None] = [None, None]
    total = 0
    for group, n, p50, p90, n_all, all50, all90 in rows:
        result[str(group)] = Percentiles(int(n), _num(p50), _num(p90))
        total = int(n_all)
        # The overall rank lands in exactly one priority's rows; the others give NULL.
        overall = [
            _num(all50) if all50 is not None else overall[0],
            _num(all90) if all90 is not None else overall[1],
        ]
    if rows:
        result["all"] = Percentiles(total, overall[0], overall[1])
    return result


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Backlog:
    open: int
    unclaimed: int
    breached: int
    age_buckets: dict[str, int]  # "<1d", "1-3d", "3-7d", ">7d"
    oldest: datetime | None


AGE_BUCKETS = (("<1d", 1), ("1-3d", 3), ("3-7d", 7))


def backlog_at(session: Session, at: datetime, category: str | None = None) -> Backlog:
    """Cases open at instant ``at`` (created before, not resolved by then), and their ages then.

    Claims are read as they are now (a released claim leaves no trace on the row)."""
    open_then = and_(Case.created_at < at, (Case.resolved_at.is_(None)) | (Case.resolved_at >= at))
    where = [open_then]
    if category:
        where.append(Case.category == category)
    age = case(
        *[(Case.created_at > at - timedelta(days=days), label) for label, days in AGE_BUCKETS], else_=">7d"
    ).label("age")
    unclaimed = func.sum(case(((Case.claimed_at.is_(None)) | (Case.claimed_at >= at), 1), else_=0))
    breached = func.sum(case((Case.sla_due_at < at, 1), else_=0))
    rows = session.execute(
        select(age, func.count(), unclaimed, breached, func.min(Case.created_at)).where(*where).group_by(age)
    ).all()
    buckets = {label: 0 for label, _ in AGE_BUCKETS} | {">7d": 0}
    total = unclaimed_total = breached_total = 0
    oldest: datetime | None = None
    for label, count, unc, br, first in rows:
        buckets[label] = int(count)
        total += int(count)
        unclaimed_total += int(unc or 0)
        breached_total += int(br or 0)
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return Backlog(total, unclaimed_total, breached_total, buckets, oldest)


@dataclass(frozen=True)
class QueueNow:
    unclaimed: int
    at_risk: int  # open, due within the next ``window`` and not yet breached
    breached: int
    by_priority: dict[str, int]


def queue_now(session: Session, now: datetime, at_risk_before: dict[str, datetime]) -> QueueNow:
    """The open queue at ``now``; a case is at risk when its SLA is due before
    ``at_risk_before[priority]`` (75% of its SLA elapsed) and not yet breached."""
    risky = case(
        *[
            (and_(Case.priority == priority, Case.sla_due_at <= bound, Case.sla_due_at > now), 1)
            for priority, bound in at_risk_before.items()
        ],
        else_=0,
    )
    rows = session.execute(
        select(
            Case.priority,
            func.sum(case((Case.claimed_by.is_(None), 1), else_=0)),
            func.sum(risky),
            func.sum(case((Case.sla_due_at <= now, 1), else_=0)),
            func.count(),
        )
        .where(Case.status != "resolved")
        .group_by(Case.priority)
    )
    unclaimed = at_risk = breached = 0
    by_priority: dict[str, int] = {}
    for priority, unc, risk, br, count in rows:
        unclaimed += int(unc or 0)
        at_risk += int(risk or 0)
        breached += int(br or 0)
        by_priority[priority] = int(count)
    return QueueNow(unclaimed, at_risk, breached, by_priority)


# --- enforcement --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnforcementWeek:
    suspensions: int
    reinstatements: int
    already_in_state: int
    failed: int
    awaiting_manual: int
    requests: dict[str, int]  # by action, created in the period
    rejected: int
    bulk_runs: int
    bulk_accounts: int


def enforcement_between(session: Session, start: datetime, end: datetime, bulk_over: int) -> EnforcementWeek:
    """Action results finished in [start, end) in one pass; requests created or decided then."""
    in_period = and_(EnforcementAction.finished_at >= start, EnforcementAction.finished_at < end)

    def count_when(*conditions: Any) -> Any:
        return func.sum(case((and_(*conditions), 1), else_=0))

    actions = session.execute(
        select(
            count_when(EnforcementAction.action == "suspend", EnforcementAction.status == DONE),
            count_when(EnforcementAction.action == "reinstate", EnforcementAction.status == DONE),
            count_when(EnforcementAction.status == "already_in_state"),
            count_when(EnforcementAction.status.in_((FAILED, RETRYABLE))),
        ).where(in_period)
    ).one()
    manual = session.scalar(select(func.count()).where(EnforcementAction.status == MANUAL)) or 0
    requests = {
        action: int(count)
        for action, count in session.execute(
            select(EnforcementRequest.action, func.count())
            .where(EnforcementRequest.created_at >= start, EnforcementRequest.created_at < end)
            .group_by(EnforcementRequest.action)
        )
    }
    decided = and_(EnforcementRequest.decided_at >= start, EnforcementRequest.decided_at < end)
    bulk = session.execute(
        select(
            count_when(EnforcementRequest.status == "rejected"),
            count_when(EnforcementRequest.status != "rejected", EnforcementRequest.account_count > bulk_over),
            func.sum(
                case(
                    (
                        and_(
                            EnforcementRequest.status != "rejected",
                            EnforcementRequest.account_count > bulk_over,
                        ),
                        EnforcementRequest.account_count,
                    ),
                    else_=0,
                )
            ),
        ).where(decided)
    ).one()
    return EnforcementWeek(
        suspensions=int(actions[0] or 0),
        reinstatements=int(actions[1] or 0),
        already_in_state=int(actions[2] or 0),
        failed=int(actions[3] or 0),
        awaiting_manual=int(manual),
        requests=requests,
        rejected=int(bulk[0] or 0),
        bulk_runs=int(bulk[1] or 0),
        bulk_accounts=int(bulk[2] or 0),
    )


@dataclass(frozen=True)
class Reversals:
    suspended: int
    reversed: int
    on_appeal: int = 0  # of ``reversed``: by a reinstatement that overturned an appeal (the rest: otherwise)

    @property
    def rate(self) -> float | None:
        return self.reversed / self.suspended if self.suspended else None


def reversals_between(session: Session, start: datetime, end: datetime) -> Reversals:
    """Suspensions executed in [start, end), and how many an executed reinstatement (finished
    before ``end``) reversed; bounded by ``end`` so a past week's figure does not move."""
    suspended = (
        select(EnforcementAction.id)
        .where(
            EnforcementAction.action == "suspend",
            EnforcementAction.status == DONE,
            EnforcementAction.finished_at >= start,
            EnforcementAction.finished_at < end,
        )
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(suspended)) or 0
    reversed_count = (
        session.scalar(
            select(func.count(func.distinct(EnforcementAction.reverses_action_id))).where(
                EnforcementAction.action == "reinstate",
                EnforcementAction.status.in_(EXECUTED),
                EnforcementAction.finished_at < end,
                EnforcementAction.reverses_action_id.in_(select(suspended.c.id)),
            )
        )
        or 0
    )
    on_appeal = (
        session.scalar(
            select(func.count(func.distinct(EnforcementAction.reverses_action_id))).where(
                EnforcementAction.action == "reinstate",
                EnforcementAction.status.in_(EXECUTED),
                EnforcementAction.finished_at < end,
                EnforcementAction.reverses_action_id.in_(select(suspended.c.id)),
                EnforcementAction.request_id.in_(
                    select(AppealRow.reinstatement_request_id).where(AppealRow.outcome == OVERTURNED)
                ),
            )
        )
        or 0
    )
    return Reversals(int(total), int(reversed_count), int(on_appeal))


# --- rule hits -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleHitRow:
    rule_id: str
    live: int
    shadow: int
    previous: int  # both modes, the period before


def rule_hits_between(
    session: Session, previous_start: datetime, start: datetime, end: datetime
) -> list[RuleHitRow]:
    """Per rule: hits in [start, end) by mode, and in [previous_start, start)."""
    now_ = and_(RuleHit.at >= start, RuleHit.at < end)
    rows = session.execute(
        select(
            RuleHit.rule_id,
            func.sum(case((and_(now_, RuleHit.mode == "live"), 1), else_=0)),
            func.sum(case((and_(now_, RuleHit.mode != "live"), 1), else_=0)),
            func.sum(case((RuleHit.at < start, 1), else_=0)),
        )
        .where(RuleHit.at >= previous_start, RuleHit.at < end)
        .group_by(RuleHit.rule_id)
    )
    return [
        RuleHitRow(rule, int(live or 0), int(shadow or 0), int(prev or 0))
        for rule, live, shadow, prev in rows
    ]


# --- export streams (yield_per: a year of cases streams in flat memory) ------------------------------
STREAM_BATCH = 1000


def cases_created_between(session: Session, since: datetime, until: datetime) -> Iterator[Case]:
    query = (
        select(Case)
        .where(Case.created_at >= since, Case.created_at < until)
        .order_by(Case.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    yield from session.scalars(query)


def actions_requested_between(
    session: Session, since: datetime, until: datetime
) -> Iterator[Row[tuple[EnforcementAction, EnforcementRequest]]]:
    """Each enforcement action with its request, for requests created in [since, until)."""
    query = (
        select(EnforcementAction, EnforcementRequest)
        .join(EnforcementRequest, EnforcementRequest.id == EnforcementAction.request_id)
        .where(EnforcementRequest.created_at >= since, EnforcementRequest.created_at < until)
        .order_by(EnforcementAction.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    yield from session.execute(query)  # rows unpack as (action, request)

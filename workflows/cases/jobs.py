"""The Slack side effects of cases, as durable jobs: post the card, bring it up to date, post
in the case's thread, tell the alerts channel.

They are queued in the transaction of the change they follow, so a Slack outage delays them
and loses nothing; the handlers are idempotent, because a job may run again after a restart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from store import cases as store
from store.db import Database
from workflows.cases.ports import CaseNotifier
from workflows.cases.timeline import note
from workflows.cases.views import CaseNotice, CaseView, view_of
from workflows.clock import Clock
from workflows.jobs import JobRunner, PermanentJobError, enqueue

JOB_CARD_POST = "case.card.post"
JOB_CARD_UPDATE = "case.card.update"
JOB_THREAD = "case.thread"
JOB_ALERT = "case.alert"


def post_card_later(session: Session, clock: Clock, case_id: int) -> None:
    enqueue(session, clock, JOB_CARD_POST, {"case_id": case_id}, key=f"case-card:{case_id}")


def update_card_later(session: Session, clock: Clock, case_id: int) -> None:
    enqueue(session, clock, JOB_CARD_UPDATE, {"case_id": case_id})


def post_in_thread_later(session: Session, clock: Clock, case_id: int, notice: CaseNotice, key: str) -> None:
    enqueue(session, clock, JOB_THREAD, _payload(case_id, notice), key=key)


def alert_later(session: Session, clock: Clock, case_id: int, notice: CaseNotice, key: str) -> None:
    enqueue(session, clock, JOB_ALERT, _payload(case_id, notice), key=key)


def _payload(case_id: int, notice: CaseNotice) -> dict[str, Any]:
    return {"case_id": case_id, "notice": notice.kind, "fields": notice.fields}


def notice_of(payload: dict[str, Any]) -> CaseNotice:
    """The notice a job carries; a job queued before notices had codes carries its text."""
    if "notice" not in payload:
        return CaseNotice("text", {"text": str(payload["text"])})
    return CaseNotice(payload["notice"], dict(payload.get("fields") or {}))


def register_handlers(runner: JobRunner, db: Database, clock: Clock, notifier: CaseNotifier) -> None:
    def post_card(payload: dict[str, Any]) -> None:
        case = _job_case(db, payload)
        if case.card_ts:
            return  # posted already (a retried job after the write landed)
        ref = notifier.post_card(case)
        with db.transaction() as session:
            store.keep_card_if_unset(session, case.id, ref.ts, ref.permalink)
            note(session, case.id, "card_posted", {"ts": ref.ts}, at=clock.now())
        # Jobs run side by side: a change that landed while the card was being posted
        # found no card to update and left it to us. Catch up once, now that it exists.
        latest = _job_case(db, payload)
        if _shown(latest) != _shown(case):
            notifier.update_card(latest)

    def update_card(payload: dict[str, Any]) -> None:
        case = _job_case(db, payload)
        if not case.card_ts:
            return  # not posted yet: the post job renders the latest state (see post_card)
        notifier.update_card(case)

    def thread(payload: dict[str, Any]) -> None:
        notifier.post_in_thread(_job_case(db, payload), notice_of(payload))

    def alert(payload: dict[str, Any]) -> None:
        notifier.post_alert(_job_case(db, payload), notice_of(payload))

    runner.register(JOB_CARD_POST, post_card)
    runner.register(JOB_CARD_UPDATE, update_card)
    runner.register(JOB_THREAD, thread)
    runner.register(JOB_ALERT, alert)


def _job_case(db: Database, payload: dict[str, Any]) -> CaseView:
    with db.read() as session:
        case = store.case_by_id(session, int(payload["case_id"]))
        if case is None:
            raise PermanentJobError(f"case {payload['case_id']} does not exist")
        return view_of(session, case)


def _shown(case: CaseView) -> CaseView:
    """What the card shows, without where it is."""
    return replace(case, card_ts=None, permalink=None, events=[])

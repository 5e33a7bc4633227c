"""Reporters told the decision on their notice (DSA Art. 16(5)).

A user's report routed to a case is a notice. When the case is decided the platform is told,
per report, through the same outcome endpoint as appeals (``POST /appeals/{id}/outcome`` with
``"kind": "notice"``, the id being the report's id at the platform):

- ``actioned``: a suspension of the reported account, asked for from the case, was executed
  (the puid of its statement goes with it when the DSA section is on);
- ``not_actioned``: the case was resolved and no such suspension was executed, nor is one still
  on its way (one on its way tells ``actioned`` when it executes, or ``not_actioned`` if it is
  rejected, expires or fails for good after the case was resolved).

Every report gets one outcome row, ever (unique per report), written in the decision's own
transaction with its durable job, so a retried job, a second resolve or a reopened case never
tells twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from store import cases as case_store
from store import decisions as store
from store import enforcement as ledger
from store.cases import Case
from store.db import Database
from store.decisions import NOT_TOLD, QUEUED, TOLD
from store.signals import Report
from workflows.cases import RESOLVED
from workflows.cases import timeline as case_timeline
from workflows.clock import Clock
from workflows.decisions.ports import AppealOutcomes
from workflows.jobs import JobRunner, PermanentJobError, enqueue

log = logging.getLogger(__name__)
NOTICE_JOB = "notice.outcome"
ACTIONED, NOT_ACTIONED = "actioned", "not_actioned"
MANUAL_MODE = "no enforcement API (manual mode)"
NO_ID = "the report has no id from the platform"
# What a reporter reads: fixed sentences per case outcome, never the analyst's resolution note,
# which is written for the team and may name other accounts or people.
TO_REPORTER: dict[str, tuple[str, str]] = {
    "actioned": (ACTIONED, "The report was reviewed and action was taken on the reported account."),
    "no_action": (NOT_ACTIONED, "The report was reviewed; no violation was found and no action was taken."),
    "duplicate": (
        NOT_ACTIONED,
        "The report was reviewed together with an earlier report about the same account.",
    ),
    "not_ts": (
        NOT_ACTIONED,
        "The report was reviewed; it does not concern the platform's rules, so no action was taken.",
    ),
}
NOT_SUSPENDED = "The report was reviewed; the reported account was not suspended."


class Notices:
    def __init__(self, db: Database, clock: Clock, jobs: JobRunner, outcomes: AppealOutcomes | None) -> None:
        self.db = db
        self.clock = clock
        self.jobs = jobs
        self.outcomes = outcomes

    def register_jobs(self, jobs: JobRunner) -> None:
        jobs.register(NOTICE_JOB, self._tell)

    # --- the decisions, each in its own transaction --------------------------------------------------
    def case_resolved(self, session: Session, case: Case, outcome: str) -> None:
        """Cases' hook: every report not told yet hears the case's outcome, unless a suspension
        from the case is on its way (its execution or withdrawal tells them)."""
        reports = store.reports_to_tell(session, case.id)
        if not reports:
            return
        kind, reason = TO_REPORTER.get(outcome, (NOT_ACTIONED, TO_REPORTER["no_action"][1]))
        actioned: dict[int, list[Report]] = {}
        not_actioned: list[Report] = []
        for report in reports:
            state = store.case_suspension(session, f"CASE-{case.id}", report.account_id)
            if state is None:
                not_actioned.append(report)
            elif state[0] == "executed":  # executed before the report reached the case
                actioned.setdefault(state[1], []).append(report)
        for request_id, told in actioned.items():
            self._actioned(session, case.id, request_id, told)
        self._queue(session, case.id, not_actioned, kind, reason)

    def suspensions_executed(self, session: Session, request_id: int, account_ids: Sequence[str]) -> None:
        """Enforcement's results, in their transaction: these accounts' suspensions executed."""
        case_id = self._case_of(session, request_id)
        if case_id is None:
            return
        reports = store.reports_to_tell(session, case_id, account_ids)
        if reports:
            self._actioned(session, case_id, request_id, reports)

    def suspensions_dropped(
        self, session: Session, request_id: int, account_ids: Sequence[str] | None = None
    ) -> None:
        """A suspension from a case will not happen (rejected, expired, failed for good): if the
        case is already resolved, its reporters waiting for it are told ``not_actioned``."""
        case_id = self._case_of(session, request_id)
        if case_id is None:
            return
        case = case_store.case_by_id(session, case_id)
        if case is None or case.status != RESOLVED:
            return
        reports = [
            r
            for r in store.reports_to_tell(session, case_id, account_ids)
            if store.case_suspension(session, case.ref, r.account_id) is None
        ]
        self._queue(session, case_id, reports, NOT_ACTIONED, NOT_SUSPENDED)

    # --- internals ------------------------------------------------------------------------------------
    @staticmethod
    def _case_of(session: Session, request_id: int) -> int | None:
        request = ledger.get_request(session, request_id)
        if request is None or request.action != "suspend" or not request.case_ref:
            return None
        return int(request.case_ref.removeprefix("CASE-"))

    def _actioned(self, session: Session, case_id: int, request_id: int, reports: list[Report]) -> None:
        request = ledger.get_request(session, request_id)
        assert request is not None
        statements = store.for_actions(session, [(request_id, r.account_id) for r in reports])
        reason = f"The account was suspended ({request.reason_code})."
        self._queue(
            session,
            case_id,
            reports,
            ACTIONED,
            reason,
            puids={account: row.puid for (_, account), row in statements.items()},
        )

    def _queue(
        self,
        session: Session,
        case_id: int,
        reports: list[Report],
        outcome: str,
        reason: str,
        puids: dict[str, str] | None = None,
    ) -> None:
        if not reports:
            return
        now = self.clock.now()
        queued = without_id = 0
        for report in reports:
            addressable = bool(report.client_id)
            row_id = store.add_notice_outcome(
                session,
                {
                    "report_id": report.id,
                    "case_id": case_id,
                    "client_id": report.client_id,
                    "reporter": report.reporter,
                    "account_id": report.account_id,
                    "outcome": outcome,
                    "reason": reason,
                    "puid": (puids or {}).get(report.account_id),
                    "status": QUEUED if addressable else NOT_TOLD,
                    "error": None if addressable else NO_ID,
                    "created_at": now,
                },
            )
            if row_id is None:
                continue  # decided at the same moment elsewhere: that one tells
            if not addressable:
                without_id += 1
                log.warning("reporter not told: %s", NO_ID, extra={"report": report.id, "case": case_id})
                continue
            queued += 1
            enqueue(session, self.clock, NOTICE_JOB, {"notice": row_id}, key=f"notice-outcome:{report.id}")
        if queued or without_id:
            data = {"reporters": queued, "outcome": outcome, "without_id": without_id}
            case_timeline.note(session, case_id, "reporters_told", data, at=now, actor="vigil")
        if queued:
            self.jobs.wake()

    def _tell(self, payload: dict[str, Any]) -> None:
        with self.db.read() as session:
            row = store.notice_outcome(session, int(payload["notice"]))
            if row is None:
                raise PermanentJobError(f"no notice outcome {payload['notice']}")
            if row.status != QUEUED:
                return  # told (or given up on) by an earlier run of this job
            notice_id, case_id, client_id = row.id, row.case_id, str(row.client_id)
            body = {
                "kind": "notice",
                "outcome": row.outcome,
                "reason": row.reason,
                "reporter": row.reporter,
                "account_id": row.account_id,
                "puid": row.puid,
            }
        if self.outcomes is None:
            log.info("reporter not told: %s", MANUAL_MODE, extra={"notice": notice_id, "report": client_id})
            self._settle(notice_id, case_id, NOT_TOLD, MANUAL_MODE)
            return
        try:
            self.outcomes.notice_outcome(client_id, body)
        except PermanentJobError as exc:
            self._settle(notice_id, case_id, NOT_TOLD, str(exc))
            raise
        self._settle(notice_id, case_id, TOLD, None)

    def _settle(self, notice_id: int, case_id: int, status: str, error: str | None) -> None:
        now = self.clock.now()
        with self.db.transaction() as session:
            if store.mark_notice(session, notice_id, status, now, error) and status == NOT_TOLD:
                data = {"notice": notice_id, "error": error}
                case_timeline.note(session, case_id, "reporter_not_told", data, at=now, actor="vigil")


def told_of_case(db: Database, case_id: int) -> list[dict[str, Any]]:
    """A case's notice outcomes, for people and tests."""
    with db.read() as session:
        return [
            {
                "report": r.client_id,
                "reporter": r.reporter,
                "outcome": r.outcome,
                "status": r.status,
                "error": r.error,
            }
            for r in store.notice_outcomes_of_case(session, case_id)
        ]

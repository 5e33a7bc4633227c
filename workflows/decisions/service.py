"""Statements of reasons' use cases: drafted with the request, frozen at approval, carried by
the enforcement call, and submitted to the Transparency Database once the action executed.

``Decisions`` implements enforcement's ``DecisionHook`` port, so enforcement knows nothing of
the DSA; ``submit_due`` is the scheduler's tick (one batch of at most 100 per call).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from store import cases as case_store
from store import decisions as statements
from store import enforcement as ledger
from store.db import Database
from store.decisions import BLOCKED, DRAFTED, FAILED, FROZEN, SUBMITTED, WITHDRAWN, StatementRow
from store.enforcement import EXECUTED, EnforcementRequest
from store.enforcement import FAILED as FAILED_ACTION
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.decisions.appeals import Appeals
from workflows.decisions.draft import Origin, draft, facts_from
from workflows.decisions.draft import puid as puid_of
from workflows.decisions.facts import find_personal_data
from workflows.decisions.notices import Notices
from workflows.decisions.ports import BATCH, Submitted, TransparencyDatabase
from workflows.decisions.schema import Statement
from workflows.enforcement.events import note_event

log = logging.getLogger(__name__)
FIRST_RETRY, LAST_RETRY = timedelta(minutes=1), timedelta(hours=1)


def _problem(exc: ValidationError) -> str:
    """'field: message' per problem, as the database would word a 422."""
    out = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{field}: {message}" if field else message)
    return "; ".join(out)


def backoff(attempts: int) -> timedelta:
    return min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


class Decisions:
    def __init__(
        self, db: Database, clock: Clock, config: VigilConfig, database: TransparencyDatabase | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.settings = config.dsa
        self.database = database
        self.appeals: Appeals | None = None  # set by the runtime: reinstatements that overturn an appeal
        self.notices: Notices | None = None  # set by the runtime: reporters told the decision

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    @property
    def submitting(self) -> bool:
        return self.settings is not None and self.settings.submit and self.database is not None

    # --- enforcement's hook: in the request's own transactions ------------------------------------
    def _origin(self, session: Session, request: EnforcementRequest) -> Origin:
        if request.case_ref:
            case = case_store.case_by_id(session, int(request.case_ref.removeprefix("CASE-")))
            if case is not None:
                # A user's report routed to the case is a notice, even though Vigil posted it;
                # otherwise a case Vigil posted was found by a rule, an anomaly or a signal.
                found_by_vigil = case.author_is_bot and not statements.case_has_reports(session, case.id)
                return Origin(
                    notice=not found_by_vigil,
                    automated_detection=found_by_vigil,
                    content_date=case.created_at.date(),
                )
        return Origin(notice=False, automated_detection=False)

    def _statement(
        self, session: Session, request: EnforcementRequest, action_id: int, facts: str, on: date
    ) -> Statement:
        assert self.settings is not None
        return draft(
            self.settings,
            request_id=request.id,
            action_id=action_id,
            reason_code=request.reason_code,
            facts=facts,
            origin=self._origin(session, request),
            rule_proposed=bool(request.recommendations),
            decided_on=on,
        )

    def drafted(self, session: Session, request: EnforcementRequest, facts: str | None = None) -> None:
        """Draft one statement per account of a suspension, in the request's transaction (and
        link a reinstatement asked for from an appeal's case to that appeal)."""
        if self.appeals is not None:
            self.appeals.link(session, request)
        if self.settings is None or request.action != "suspend":
            return
        now = self.clock.now()
        actions = ledger.actions_of(session, request.id)
        accounts = [a.account_id for a in actions]
        text = (
            facts.strip()
            if facts and facts.strip()
            else facts_from(request.evidence, request.note, request.reason_code, accounts)
        )
        if not actions:
            return
        # The accounts of one request share every field but the puid: checked once (a bulk of
        # 10,000 accounts is one validation and one case lookup, not 10,000).
        body = self._statement(session, request, actions[0].id, text, now.date()).body()
        rows = []
        for action in actions:
            key = puid_of(request.id, action.id)
            rows.append(
                {
                    "request_id": request.id,
                    "account_id": action.account_id,
                    "puid": key,
                    "status": DRAFTED,
                    "body": body | {"puid": key},
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        statements.add_statements(session, rows)
        if rows:
            note_event(session, request, now, "vigil", "statement_drafted", {"statements": len(rows)})

    def approved(self, session: Session, request_id: int) -> None:
        """Freeze the drafts: the application date becomes the day of approval (and an approved
        reinstatement that overturns an appeal decides it)."""
        if self.appeals is not None:
            self.appeals.reinstatement_approved(session, request_id)
        if self.settings is None:
            return
        now = self.clock.now()
        rows = [r for r in statements.of_request(session, request_id) if r.status == DRAFTED]
        applied = {"application_date": now.date().isoformat()}
        if rows:  # the date order is the one rule a later date could break: checked once
            Statement.model_validate(rows[0].body | applied)
        for row in rows:
            row.body = row.body | applied
            row.status, row.updated_at, row.next_attempt_at = FROZEN, now, now
        if rows:
            request = ledger.get_request(session, request_id)
            assert request is not None
            note_event(session, request, now, "vigil", "statement_frozen", {"statements": len(rows)})

    def withdrawn(self, session: Session, request_id: int) -> None:
        if self.notices is not None:
            self.notices.suspensions_dropped(session, request_id)
        if self.settings is None:
            return
        if statements.set_status(session, request_id, DRAFTED, WITHDRAWN, self.clock.now()):
            request = ledger.get_request(session, request_id)
            assert request is not None
            note_event(session, request, self.clock.now(), "vigil", "statement_withdrawn", {})

    def finished(self, session: Session, results: list[tuple[int, str, str, str]]) -> None:
        """Executed suspensions tell their case's reporters ``actioned``; one that failed for
        good counts as not done (its reporters hear the case's outcome if it is resolved)."""
        if self.notices is None:
            return
        executed: dict[int, list[str]] = {}
        failed: dict[int, list[str]] = {}
        for request_id, account_id, action, status in results:
            if action != "suspend":
                continue
            if status in EXECUTED:
                executed.setdefault(request_id, []).append(account_id)
            elif status == FAILED_ACTION:
                failed.setdefault(request_id, []).append(account_id)
        for request_id, accounts in executed.items():
            self.notices.suspensions_executed(session, request_id, accounts)
        for request_id, accounts in failed.items():
            self.notices.suspensions_dropped(session, request_id, accounts)

    def notices_for(
        self, session: Session, keys: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], dict[str, Any]]:
        """The ``statement`` object each enforcement call carries (docs/dsa.md)."""
        if self.settings is None:
            return {}
        window = self.settings.appeal_window
        out = {}
        for key, row in statements.for_actions(session, keys).items():
            applied = date.fromisoformat(row.body["application_date"])
            out[key] = {
                "puid": row.puid,
                "fields": row.body,
                "appeal": {
                    "until": (applied + window).isoformat(),
                    "how": "The account holder can appeal this decision, free of charge, through the "
                    "platform's appeal form until the date above; a person at the platform decides it.",
                },
            }
        return out

    # --- submission ---------------------------------------------------------------------------------
    def submit_due(self) -> int:
        """Submit one batch of due statements; return how many the database now holds."""
        if not self.submitting:
            return 0
        assert self.database is not None
        now = self.clock.now()
        with self.db.read() as session:
            due = [
                (r.id, r.puid, dict(r.body), r.account_id)
                for r in statements.due_for_submission(session, now, BATCH)
            ]
        if not due:
            return 0
        blocked: dict[str, str] = {}
        ready: list[dict[str, Any]] = []
        for _, puid, body, account in due:
            spans = find_personal_data(str(body.get("decision_facts", "")), [account])
            if spans:
                blocked[puid] = "personal data in decision_facts: " + ", ".join(s.describe() for s in spans)
            else:
                ready.append(body)
        results = self.database.submit(ready) if ready else []
        with self.db.transaction() as session:
            rows = statements.by_puid(session, [puid for _, puid, _, _ in due])
            for puid, reason in blocked.items():
                self._record(
                    session, rows[puid], Submitted(puid, "invalid", detail=reason), now, status=BLOCKED
                )
            for result in results:
                if result.puid in rows:
                    self._record(session, rows[result.puid], result, now)
        return sum(1 for r in results if r.result in ("submitted", "duplicate"))

    def _record(
        self, session: Session, row: StatementRow, result: Submitted, now: datetime, status: str | None = None
    ) -> None:
        row.attempts += 1
        row.updated_at = now
        request = ledger.get_request(session, row.request_id)
        assert request is not None
        if result.result in ("submitted", "duplicate"):
            row.status, row.submitted_at, row.error, row.next_attempt_at = SUBMITTED, now, None, None
            row.dsa_id = result.dsa_id or row.dsa_id
            data: dict[str, Any] = {
                "puid": row.puid,
                "dsa_id": row.dsa_id,
                "already_there": result.result == "duplicate",
            }
            note_event(session, request, now, "vigil", "statement_submitted", data, account_id=row.account_id)
            return
        if result.result == "transient" and not result.detail:
            # Not refused, not tried (its batch was): due again at once, no attempt counted.
            row.attempts -= 1
            return
        row.status = status or FAILED
        row.error = result.detail
        row.next_attempt_at = None if row.status == BLOCKED else now + backoff(row.attempts)
        note_event(
            session,
            request,
            now,
            "vigil",
            "statement_blocked" if row.status == BLOCKED else "statement_failed",
            {"puid": row.puid, "reason": result.detail},
            account_id=row.account_id,
        )
        log.warning("statement not submitted", extra={"puid": row.puid, "reason": result.detail})

    def run_until_idle(self) -> int:
        total = 0
        while True:
            submitted = self.submit_due()
            total += submitted
            if not submitted:
                return total

    def of_account(self, account_id: str) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return [
                {
                    "puid": r.puid,
                    "request": f"REQ-{r.request_id}",
                    "status": r.status,
                    "dsa_id": r.dsa_id,
                    "error": r.error,
                }
                for r in statements.of_account(session, account_id)
            ]

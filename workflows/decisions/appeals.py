"""Appeals (DSA Art. 20): a user contests an executed suspension; a person other than those
who asked for it or approved it decides. Uphold tells the platform, with the reason; Overturn
is a reinstatement through normal approval, linked to the appeal, decided when it is approved.

An appeal is a case of category ``appeal`` (its deadline is ``sla.appeal``) whose source
message in the escalation channel carries the Uphold / Overturn buttons; the appeal row links
the case to the request and account it contests.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import decisions as store
from store import enforcement as ledger
from store.db import Database
from store.decisions import OVERTURNED, UPHELD, AppealRow
from store.enforcement import EXECUTED, EnforcementRequest
from workflows.cases import CaseOverrides, Cases, IncomingMessage
from workflows.cases import timeline as case_timeline
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.decisions.errors import AppealRefused
from workflows.decisions.ports import AppealNotifier, AppealOutcomes
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.ports import MessageRef

log = logging.getLogger(__name__)
SIX_MONTHS = timedelta(days=183)
_REQ = re.compile(r"^REQ-(\d{1,12})$", re.IGNORECASE)
OUTCOME_JOB, ANNOUNCE_JOB = "appeal.outcome", "appeal.announce"


class AppealIn(BaseModel):
    """The body of ``POST /api/v1/appeals`` (DESIGN.md): the action is a puid or a request id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    appeal_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    account_id: str = Field(min_length=1, max_length=64)
    puid: str | None = Field(default=None, max_length=500)
    request_id: str | None = Field(default=None, max_length=20)
    text: str = Field(min_length=1, max_length=10_000)
    links: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_action(self) -> AppealIn:
        if (self.puid is None) == (self.request_id is None):
            raise ValueError("give exactly one of puid or request_id")
        bad = [link for link in self.links if not re.match(r"^https?://\S{1,2000}$", link)]
        if bad:
            raise ValueError(f"links must be http(s) URLs: {bad[:3]}")
        return self


@dataclass(frozen=True)
class AppealView:
    id: int
    appeal_id: str
    case_id: int | None
    request_id: int
    account_id: str
    reason_code: str
    requester: str
    approvers: list[str]
    text: str
    links: list[str]
    late: bool
    received_at: datetime
    due_at: datetime
    outcome: str | None
    reason: str | None
    decided_by: str | None
    reinstatement_request_id: int | None
    message: MessageRef | None
    internal: bool = False

    @property
    def case_ref(self) -> str:
        return f"CASE-{self.case_id}"

    @property
    def request_ref(self) -> str:
        return f"REQ-{self.request_id}"


@dataclass(frozen=True)
class AppealReceipt:
    case_ref: str
    late: bool
    created: bool


def _view(session: Session, row: AppealRow) -> AppealView:
    request = ledger.get_request(session, row.request_id)
    assert request is not None
    message = (
        MessageRef(row.message_channel, row.message_ts) if row.message_channel and row.message_ts else None
    )
    return AppealView(
        id=row.id,
        appeal_id=row.appeal_id,
        case_id=row.case_id,
        request_id=row.request_id,
        account_id=row.account_id,
        reason_code=request.reason_code,
        requester=request.requester,
        approvers=ledger.approvers_of(session, row.request_id),
        text=row.text,
        links=list(row.links or []),
        late=row.late,
        received_at=row.received_at,
        due_at=row.due_at,
        outcome=row.outcome,
        reason=row.reason,
        decided_by=row.decided_by,
        reinstatement_request_id=row.reinstatement_request_id,
        message=message,
        internal=row.internal,
    )


class Appeals:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        cases: Cases,
        jobs: JobRunner,
        notifier: AppealNotifier | None = None,
        outcomes: AppealOutcomes | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.cases = cases
        self.jobs = jobs
        self.notifier = notifier
        self.outcomes = outcomes
        self.window = config.dsa.appeal_window if config.dsa is not None else SIX_MONTHS

    def register_jobs(self, jobs: JobRunner) -> None:
        jobs.register(OUTCOME_JOB, self._tell_platform)
        jobs.register(ANNOUNCE_JOB, self._announce)

    # --- receiving ------------------------------------------------------------------------------
    def _contested(self, session: Session, body: AppealIn) -> tuple[EnforcementRequest, datetime]:
        """The executed suspension the appeal contests, and when it was executed."""
        if body.puid is not None:
            found = store.by_puid(session, [body.puid]).get(body.puid)
            if found is None or found.account_id != body.account_id:
                raise AppealRefused(
                    "unknown_action", 404, reason=f"no statement {body.puid} for account {body.account_id}"
                )
            request_id = found.request_id
        else:
            match = _REQ.match(body.request_id or "")
            if match is None:
                raise AppealRefused(
                    "unknown_action", 404, reason=f"{body.request_id} is not a request id (REQ-n)"
                )
            request_id = int(match.group(1))
        request = ledger.get_request(session, request_id)
        actions = ledger.actions_for_accounts(session, request_id, [body.account_id]) if request else []
        executed = [a for a in actions if a.action == "suspend" and a.status in EXECUTED]
        if request is None or not executed:
            raise AppealRefused(
                "unknown_action",
                404,
                reason=f"no executed suspension of {body.account_id} in REQ-{request_id}",
            )
        return request, executed[0].finished_at or request.decided_at or request.created_at

    def check(self, body: AppealIn) -> None:
        """Raise what ``receive`` would refuse, writing nothing: a form asks before it closes."""
        if self.notifier is None or not self.config.channels.escalations:
            raise AppealRefused(
                "appeals_unavailable", 503, reason="no Slack escalation channel to post appeals in"
            )
        with self.db.read() as session:
            if store.appeal_by_platform_id(session, body.appeal_id) is None:
                self._contested(session, body)

    def receive(self, body: AppealIn, *, internal: bool = False) -> AppealReceipt:
        """Open the appeal's case (once per ``appeal_id``); a late appeal is accepted, flagged.
        ``internal``: not from the platform (a QA disagreement, or an appeal brought in with the
        Slack shortcut), so the platform, which never issued its id, is never told."""
        if self.notifier is None or not self.config.channels.escalations:
            raise AppealRefused(
                "appeals_unavailable", 503, reason="no Slack escalation channel to post appeals in"
            )
        now = self.clock.now()
        with self.db.read() as session:
            existing = store.appeal_by_platform_id(session, body.appeal_id)
            if existing is not None:
                return AppealReceipt(f"CASE-{existing.case_id}", existing.late, False)
            request, executed_at = self._contested(session, body)
            approvers = ledger.approvers_of(session, request.id)
            reason_code, requester = request.reason_code, request.requester
        late = now > executed_at + self.window
        due = now + self.config.sla.appeal
        draft = AppealView(
            id=0,
            appeal_id=body.appeal_id,
            case_id=None,
            request_id=request.id,
            account_id=body.account_id,
            reason_code=reason_code,
            requester=requester,
            approvers=approvers,
            text=body.text,
            links=body.links,
            late=late,
            received_at=now,
            due_at=due,
            outcome=None,
            reason=None,
            decided_by=None,
            reinstatement_request_id=None,
            message=None,
            internal=internal,
        )
        channel = self.config.channels.escalations[0]
        posted: MessageRef = self.notifier.post_appeal(channel, draft)
        contests = f"{body.account_id} contests REQ-{request.id} ({reason_code})"
        text = f"Appeal {body.appeal_id}: {contests}.\n{body.text}"
        opened = self.cases.open_case(
            IncomingMessage(channel=posted.channel, ts=posted.ts, user=None, is_bot=True, text=text),
            source="api",
            actor="vigil",
            overrides=CaseOverrides(category="appeal"),
        )
        assert opened.case is not None
        try:
            with self.db.transaction() as session:
                store.add_appeal(
                    session,
                    {
                        "appeal_id": body.appeal_id,
                        "case_id": opened.case.id,
                        "request_id": request.id,
                        "account_id": body.account_id,
                        "puid": body.puid,
                        "text": body.text,
                        "links": body.links,
                        "late": late,
                        "internal": internal,
                        "received_at": now,
                        "due_at": due,
                        "message_channel": posted.channel,
                        "message_ts": posted.ts,
                    },
                )
                data = {"appeal_id": body.appeal_id, "request": f"REQ-{request.id}", "late": late}
                case_timeline.note(session, opened.case.id, "appeal_received", data, at=now, actor="vigil")
        except IntegrityError:  # the same appeal, delivered twice at once: the first one stands
            with self.db.read() as session:
                first = store.appeal_by_platform_id(session, body.appeal_id)
                assert first is not None
                return AppealReceipt(f"CASE-{first.case_id}", first.late, False)
        return AppealReceipt(f"CASE-{opened.case.id}", late, True)

    # --- deciding -----------------------------------------------------------------------------------
    def get(self, appeal_id: str) -> AppealView | None:
        with self.db.read() as session:
            row = store.appeal_by_platform_id(session, appeal_id)
            return _view(session, row) if row is not None else None

    def check_can_decide(self, appeal_id: str, user: str) -> AppealView:
        """Independence, like four-eyes: not the requester, nor an approver, of the original."""
        view = self.get(appeal_id)
        if view is None:
            raise AppealRefused("appeal_not_found", 404, appeal_id=appeal_id)
        if view.outcome is not None:
            raise AppealRefused(
                "appeal_decided", appeal_id=appeal_id, outcome=view.outcome, by=view.decided_by
            )
        if user == view.requester or user in view.approvers:
            role = "asked for" if user == view.requester else "approved"
            raise AppealRefused(
                "not_independent", 403, appeal_id=appeal_id, role=role, request=view.request_ref
            )
        if view.reinstatement_request_id is not None:
            raise AppealRefused(
                "overturn_pending", appeal_id=appeal_id, request=f"REQ-{view.reinstatement_request_id}"
            )
        return view

    def uphold(self, appeal_id: str, user: str, reason: str) -> AppealView:
        reason = reason.strip()
        if not reason:
            raise AppealRefused("reason_required", 400)
        view = self.check_can_decide(appeal_id, user)
        now = self.clock.now()
        with self.db.transaction() as session:
            if not store.decide_if_open(session, view.id, UPHELD, user, reason, now):
                raise AppealRefused("appeal_decided", appeal_id=appeal_id)
            self._decided(session, view, UPHELD, user, reason, now)
        self.jobs.wake()
        if view.case_id is not None:
            self.cases.resolve(view.case_id, user, "no_action", f"appeal upheld: {reason}")
        decided = self.get(appeal_id)
        assert decided is not None
        return decided

    def _decided(
        self, session: Session, view: AppealView, outcome: str, user: str, reason: str, now: datetime
    ) -> None:
        data = {"appeal_id": view.appeal_id, "outcome": outcome, "reason": reason}
        if view.case_id is not None:
            case_timeline.note(session, view.case_id, f"appeal_{outcome}", data, at=now, actor=user)
        if not view.internal:
            enqueue(session, self.clock, OUTCOME_JOB, data, key=f"appeal-outcome:{view.appeal_id}")
        enqueue(
            session,
            self.clock,
            ANNOUNCE_JOB,
            {"appeal_id": view.appeal_id},
            key=f"appeal-announce:{view.appeal_id}",
        )

    # --- overturning: a reinstatement through normal approval --------------------------------------
    def link(self, session: Session, request: EnforcementRequest) -> None:
        """A reinstatement asked for from an appeal's case (its evidence names the case) becomes
        the appeal's overturn, if the person asking is independent of the original decision."""
        if request.action != "reinstate" or not request.case_ref:
            return
        case_id = int(request.case_ref.removeprefix("CASE-"))
        appeal = store.open_appeal_of_case(session, case_id)
        if appeal is None or appeal.reinstatement_request_id is not None:
            return
        original = ledger.get_request(session, appeal.request_id)
        assert original is not None
        if request.requester == original.requester or request.requester in ledger.approvers_of(
            session, original.id
        ):
            log.warning(
                "reinstatement not linked to the appeal: its requester decided the original",
                extra={"appeal": appeal.appeal_id, "request": request.ref},
            )
            return
        appeal.reinstatement_request_id = request.id
        case_timeline.note(
            session,
            case_id,
            "appeal_overturn_requested",
            {"request": request.ref},
            at=request.created_at,
            actor=request.requester,
        )

    def reinstatement_approved(self, session: Session, request_id: int) -> None:
        appeal = store.appeal_of_reinstatement(session, request_id)
        if appeal is None or appeal.outcome is not None:
            return
        request = ledger.get_request(session, request_id)
        assert request is not None
        now = self.clock.now()
        reason = str((request.checklist or {}).get("root_cause") or request.note or "reinstated on appeal")
        if store.decide_if_open(session, appeal.id, OVERTURNED, request.requester, reason, now):
            session.refresh(appeal)
            self._decided(session, _view(session, appeal), OVERTURNED, request.requester, reason, now)

    # --- jobs ------------------------------------------------------------------------------------------
    def _tell_platform(self, payload: dict[str, Any]) -> None:
        if self.outcomes is None:
            log.info("appeal outcome not sent: no enforcement API (manual mode)", extra=payload)
            return
        self.outcomes.appeal_outcome(
            str(payload["appeal_id"]), str(payload["outcome"]), str(payload["reason"])
        )

    def _announce(self, payload: dict[str, Any]) -> None:
        view = self.get(str(payload["appeal_id"]))
        if view is None:
            raise PermanentJobError(f"no appeal {payload['appeal_id']}")
        if self.notifier is not None:
            self.notifier.appeal_decided(view)


def appeal_due(view: AppealView, now: datetime) -> bool:
    return view.outcome is None and now > view.due_at

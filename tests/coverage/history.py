"""A hand-built month whose coverage answers are known (see the table in test_coverage.py).

Rows are written straight into the store, as the concepts that own them would have left them:
the point is the derivation over a history, not how the history was made."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from store.anomalies import Anomaly
from store.cases import Case, CaseAccount
from store.db import Database
from store.enforcement import EnforcementAction, EnforcementRequest
from store.investigations import Investigation
from store.playbooks import RuleHit
from store.signals import Report, Signal
from tests.harness.world import ANALYST, ESCALATIONS, MONDAY

T0 = MONDAY - timedelta(days=10)
_ts = itertools.count(1)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def signal(s: Session, account: str, at: datetime, kind: str = "login", value: float | None = None) -> Signal:
    row = Signal(type=kind, account_id=account, occurred_at=at, value=value, attributes={}, received_at=at)
    s.add(row)
    s.flush()
    return row


def report(
    s: Session, account: str, client_id: str, occurred: datetime, received: datetime, reason: str
) -> None:
    s.add(
        Report(
            client_id=client_id,
            account_id=account,
            reporter="host_7",
            reason=reason,
            text="",
            occurred_at=occurred,
            received_at=received,
        )
    )


def case(
    s: Session, account: str, category: str, created: datetime, resolved: datetime | None, outcome: str | None
) -> int:
    row = Case(
        channel=ESCALATIONS,
        ts=f"1763{next(_ts):06d}.0001",
        source="channel",
        author="U0CX00001",
        text=f"{category} about {account}",
        category=category,
        priority="P2",
        status="resolved" if resolved else "new",
        outcome=outcome,
        created_at=created,
        updated_at=created,
        sla_due_at=created + timedelta(hours=4),
        resolved_at=resolved,
        resolved_by=ANALYST if resolved else None,
    )
    s.add(row)
    s.flush()
    s.add(CaseAccount(case_id=row.id, account_id=account))
    return row.id


def rule_hit(s: Session, account: str, rule: str, at: datetime, mode: str) -> None:
    s.add(
        RuleHit(
            rule_id=rule,
            playbook_version="v1",
            trigger="signal.received",
            subject_type="account",
            subject_id=account,
            account_id=account,
            mode=mode,
            actions=[],
            why={},
            note=None,
            at=at,
        )
    )


def enforce(
    s: Session,
    account: str,
    action: str,
    reason: str,
    done: datetime,
    case_ref: str | None = None,
    **extra: Any,
) -> int:
    request = EnforcementRequest(
        case_ref=case_ref,
        action=action,
        status="completed",
        requester=ANALYST,
        reason_code=reason,
        account_count=1,
        approvals_needed=1,
        source="slack",
        created_at=done,
        updated_at=done,
        completed_at=done,
    )
    s.add(request)
    s.flush()
    s.add(
        EnforcementAction(
            request_id=request.id,
            account_id=account,
            action=action,
            idempotency_key=f"vigil:REQ-{request.id}:{account}:{action}",
            status="done",
            created_at=done,
            updated_at=done,
            finished_at=done,
            **extra,
        )
    )
    return request.id


def investigation(
    s: Session, account: str, opened: datetime, closed: datetime, outcome: str, anomaly_id: int | None = None
) -> int:
    row = Investigation(
        account_id=account,
        open_key=None,
        status="closed",
        opened_by=ANALYST,
        opened_at=opened,
        anomaly_id=anomaly_id,
        outcome=outcome,
        findings="",
        closed_by=ANALYST,
        closed_at=closed,
    )
    s.add(row)
    s.flush()
    return row.id


def anomaly(s: Session, at: datetime) -> int:
    row = Anomaly(
        key=f"report|||spike|{at.isoformat()}",
        bucket=at,
        signal_type="report",
        dimension="",
        dim_value="",
        kind="spike",
        observed=90,
        baseline=30,
        score=9,
        data={},
        detected_at=at,
        status="posted",
    )
    s.add(row)
    s.flush()
    return row.id


def build(db: Database) -> None:
    with db.transaction() as s:
        # payment_abuse, found by a host report 31 h after the first payment signal; a shadow
        # rule matched it early (so "a rule matched"), but shadow rules detect nothing.
        signal(s, "acct_pay_1", h(0), "payment")
        rule_hit(s, "acct_pay_1", "pay-velocity", h(2), "shadow")
        report(s, "acct_pay_1", "rep-91", h(30), h(31), "payment_abuse")
        case(s, "acct_pay_1", "host_report", h(32), h(40), "actioned")
        enforce(s, "acct_pay_1", "suspend", "payment_abuse", h(40))
        # payment_abuse, a report 10 h after the first signal; no rule ever matched.
        signal(s, "acct_pay_2", h(24), "payment")
        report(s, "acct_pay_2", "rep-92", h(33), h(34), "payment_abuse")
        case(s, "acct_pay_2", "host_report", h(35), h(36), "actioned")
        # payment_abuse, a live rule 1 h after the first signal.
        signal(s, "acct_pay_3", h(0), "payment")
        rule_hit(s, "acct_pay_3", "pay-block", h(1), "live")
        enforce(s, "acct_pay_3", "suspend", "payment_abuse", h(3))
        # spam, the model score itself is the first signal: found at once.
        signal(s, "acct_spam_1", h(5), "model_score", 0.95)
        enforce(s, "acct_spam_1", "suspend", "spam", h(6))
        # spam, found by an anomaly 48 h after the first signal (late).
        signal(s, "acct_spam_2", h(2), "message")
        spike = anomaly(s, h(49))
        investigation(s, "acct_spam_2", h(50), h(52), "abuse_confirmed", anomaly_id=spike)
        enforce(s, "acct_spam_2", "suspend", "spam", h(53))
        # fraud, an analyst's own investigation 3 h after the first signal.
        signal(s, "acct_fraud_1", h(0), "payment")
        investigation(s, "acct_fraud_1", h(3), h(4), "abuse_confirmed")
        enforce(s, "acct_fraud_1", "suspend", "fraud", h(5))
        # phishing, a low model score (not a detection), then a CX escalation 6 h later.
        signal(s, "acct_phish_1", h(10), "model_score", 0.5)
        case(s, "acct_phish_1", "cx_escalation", h(16), h(17), "actioned")
        enforce(s, "acct_phish_1", "suspend", "phishing", h(18))
        # Not confirmed abuse: a suspension that was reversed, a legitimate outlier, a case
        # closed without action.
        # Not confirmed abuse, though a case was actioned: a suspension that was reversed; an
        # account an investigation cleared; a case closed without action.
        signal(s, "acct_legit_1", h(0), "payment")
        legit = case(s, "acct_legit_1", "host_report", h(1), h(2), "actioned")
        enforce(s, "acct_legit_1", "suspend", "spam", h(2), case_ref=f"CASE-{legit}")
        enforce(s, "acct_legit_1", "reinstate", "other", h(20))
        case(s, "acct_legit_2", "host_report", h(1), h(2), "actioned")
        investigation(s, "acct_legit_2", h(3), h(4), "legitimate_outlier")
        case(s, "acct_legit_3", "host_report", h(1), h(2), "no_action")
        # Confirmed before the window the tests ask about.
        enforce(s, "acct_old", "suspend", "spam", MONDAY - timedelta(days=60))

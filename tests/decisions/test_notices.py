"""Reporters are told the decision on their notice (DSA Art. 16(5)). A guest reports a host;
the report joins the case about the host; when the case is decided the platform hears, once
per report, whether the host was actioned, through the same outcome endpoint as appeals."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bot.fakes.enforcement import FakeEnforcement
from commands.blocks.cases import case_blocks
from store.cases import Case, CaseEvent
from store.decisions import NoticeOutcomeRow
from store.jobs import Job
from store.signals import Report
from tests.decisions.conftest import SIGNALS_TOKEN
from tests.harness.enforcement_steps import approve_and_wait, ask, card, eventually
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.vigil import eventually as found_eventually
from tests.harness.world import ANALYST, ESCALATIONS, LEAD, MONDAY
from workflows.decisions.notices import MANUAL_MODE, NO_ID, NOTICE_JOB
from workflows.decisions.transparency import transparency_report
from workflows.jobs import enqueue


def report(
    client_id: str | None, account: str = "acct_1", reporter: str | None = "guest_5"
) -> dict[str, Any]:
    attributes = {"reason": "spam", "text": "sent me 40 links"} | ({"reporter": reporter} if reporter else {})
    body: dict[str, Any] = {
        "type": "report",
        "account_id": account,
        "occurred_at": (MONDAY - timedelta(hours=1)).isoformat(),
        "attributes": attributes,
    }
    return body | ({"id": client_id} if client_id else {})


def file_reports(vigil: Vigil, *reports: dict[str, Any]) -> None:
    response = httpx.post(
        f"{vigil.server.url}/api/v1/signals",
        json={"signals": list(reports)},
        headers={"Authorization": f"Bearer {SIGNALS_TOKEN}"},
        timeout=30,
    )
    assert response.status_code in (200, 202), response.text

    def routed() -> bool:
        with vigil.db.read() as session:
            rows = session.scalars(select(Report)).all()
            return len(rows) >= len(reports) and all(r.routed_at for r in rows)

    eventually(routed, what="the reports to reach the case")


def open_case(vigil: Vigil, text: str = "host acct_1 is spamming guests with links") -> tuple[str, int]:
    ts = vigil.post(text)

    def found() -> int | None:
        with vigil.db.read() as session:
            return session.scalars(select(Case.id).where(Case.ts == ts)).first()

    case_id = found_eventually(found)
    assert isinstance(case_id, int)
    return ts, case_id


def resolve(vigil: Vigil, case_id: int, outcome: str, note: str | None = None, user: str = ANALYST) -> None:
    values = {
        "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": outcome}}},
        "note": {"note": {"type": "plain_text_input", "value": note}},
    }
    metadata = json.dumps({"case_id": case_id, "channel": ESCALATIONS})
    assert (
        vigil.send.view_submission("case_resolve", values, user=user, private_metadata=metadata).status_code
        == 200
    )

    def resolved() -> bool:
        with vigil.db.read() as session:
            case = session.get(Case, case_id)
            return case is not None and case.status == "resolved"

    eventually(resolved, what="the case to be resolved")


def outcome_rows(vigil: Vigil) -> list[NoticeOutcomeRow]:
    with vigil.db.read() as session:
        rows = list(session.scalars(select(NoticeOutcomeRow).order_by(NoticeOutcomeRow.id)))
        for row in rows:
            session.expunge(row)
        return rows


def timeline(vigil: Vigil, case_id: int, kind: str) -> list[dict[str, Any]]:
    with vigil.db.read() as session:
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        )
        return [dict(e.data) for e in events]


def test_a_reporter_hears_actioned_once_when_the_host_is_suspended_even_after_a_retry_and_a_restart(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    desk = make_vigil(fake_enforcement)
    ts, case_id = open_case(desk)
    file_reports(desk, report("rep-1"))
    desk.react(ts, "eyes", user=ANALYST)
    # Nothing is said while the case is only being worked on.
    ask(desk, accounts="acct_1", evidence=f"CASE-{case_id}: 40 links to an off-platform payment page")
    approve_and_wait(desk, user=LEAD)
    assert fake_enforcement.notice_outcomes == []
    desk.enforce()

    eventually(lambda: fake_enforcement.notice_outcomes, what="the reporter to be told")
    assert fake_enforcement.notice_outcomes == [
        (
            "rep-1",
            {
                "kind": "notice",
                "outcome": "actioned",
                "reason": "The account was suspended (spam).",
                "reporter": "guest_5",
                "account_id": "acct_1",
                "puid": "vigil-req1-act1",
            },
        )
    ]
    assert fake_enforcement.outcome_keys == ["vigil:notice:rep-1"]
    eventually(lambda: outcome_rows(desk)[0].status == "told", what="the outcome to be recorded")
    assert timeline(desk, case_id, "reporters_told") == [
        {"reporters": 1, "outcome": "actioned", "without_id": 0}
    ]

    # The analyst closes the case afterwards: the reporter was told already.
    resolve(desk, case_id, "actioned", "host suspended")
    # The job runs again (a worker that lost its lease, a duplicate): it finds the report told.
    with desk.db.transaction() as session:
        enqueue(session, desk.clock, NOTICE_JOB, {"notice": outcome_rows(desk)[0].id}, key="notice-again")
    desk.run_jobs()
    desk.stop()
    again = make_vigil(fake_enforcement)
    again.run_jobs()
    assert len(fake_enforcement.notice_outcomes) == 1
    assert len(outcome_rows(again)) == 1


def test_the_platform_failing_at_first_is_retried_and_the_reporter_told_once(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    fake_enforcement.outcomes_then(503)
    desk = make_vigil(fake_enforcement)
    _, case_id = open_case(desk)
    file_reports(desk, report("rep-1"))
    ask(desk, accounts="acct_1", evidence=f"CASE-{case_id}")
    approve_and_wait(desk, user=LEAD)
    desk.enforce()

    def failed_once() -> bool:
        with desk.db.read() as session:
            job = session.scalars(select(Job).where(Job.kind == NOTICE_JOB)).first()
            return job is not None and job.last_error is not None and job.status == "pending"

    # The first call fails, and the job is put back to be retried after its backoff.
    eventually(failed_once, what="the first call to fail and be recorded")
    assert fake_enforcement.notice_outcomes == [] and outcome_rows(desk)[0].status == "queued"
    desk.clock.advance(timedelta(minutes=5))  # the job's backoff has passed
    desk.run_jobs()
    eventually(lambda: fake_enforcement.notice_outcomes, what="the retry to reach the platform")
    desk.clock.advance(timedelta(hours=1))
    desk.run_jobs()
    assert [r for r, _ in fake_enforcement.notice_outcomes] == ["rep-1"]
    assert outcome_rows(desk)[0].status == "told"


def test_a_case_closed_without_action_tells_not_actioned_and_a_report_without_reporter_tells_nobody(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    desk = make_vigil(fake_enforcement)
    _, case_id = open_case(desk)
    file_reports(
        desk,
        report("rep-7", reporter="guest_7"),
        report("rep-8", reporter=None),  # a report the platform filed with no person behind it
        report(None, reporter="guest_9"),  # a person, but no id the platform would know it by
    )
    resolve(desk, case_id, "no_action", "The links go to the host's own listing.")

    eventually(lambda: fake_enforcement.notice_outcomes, what="the reporter to be told")
    assert fake_enforcement.notice_outcomes == [
        (
            "rep-7",
            {
                "kind": "notice",
                "outcome": "not_actioned",
                # A fixed sentence: the analyst's note is for the team, never for the reporter.
                "reason": "The report was reviewed; no violation was found and no action was taken.",
                "reporter": "guest_7",
                "account_id": "acct_1",
                "puid": None,
            },
        )
    ]
    eventually(lambda: outcome_rows(desk)[0].status == "told", what="the outcome to be recorded")
    assert [(r.reporter, r.status, r.error) for r in outcome_rows(desk)] == [
        ("guest_7", "told", None),
        ("guest_9", "not_told", NO_ID),  # kept, so the figures show who could not be told
    ]
    assert timeline(desk, case_id, "reporters_told") == [
        {"reporters": 1, "outcome": "not_actioned", "without_id": 1}
    ]
    # The transparency report counts them (the one without an id as not told).
    with desk.db.read() as session:
        figures = transparency_report(
            session, desk.clock.now() - timedelta(days=1), desk.clock.now() + timedelta(days=1), "UTC"
        ).as_json()
    assert figures["notices"] == {"decided": 2, "actioned": 0, "not_actioned": 2, "not_told": 1}
    # The case's timeline in Slack says so.
    shown = json.dumps(case_blocks(desk.ctx.cases.get(case_id), desk.clock.now()))  # type: ignore[arg-type]
    assert "reporters told: 1 (not_actioned); 1 without a report id, not told" in shown
    # A second resolve changes nothing and tells nobody again.
    desk.ctx.cases.resolve(case_id, ANALYST, "duplicate")
    desk.run_jobs()
    assert len(fake_enforcement.notice_outcomes) == 1


def test_without_an_enforcement_api_vigil_records_that_the_reporter_could_not_be_told(
    vigil: Vigil,
) -> None:
    _, case_id = open_case(vigil)
    file_reports(vigil, report("rep-1"))
    resolve(vigil, case_id, "no_action")
    eventually(lambda: outcome_rows(vigil)[0].status == "not_told", what="the job to give up")
    row = outcome_rows(vigil)[0]
    assert (row.outcome, row.reason, row.error) == (
        "not_actioned",
        "The report was reviewed; no violation was found and no action was taken.",
        MANUAL_MODE,
    )
    assert timeline(vigil, case_id, "reporter_not_told") == [{"notice": row.id, "error": MANUAL_MODE}]


def test_a_case_closed_while_its_suspension_waits_tells_the_reporter_when_the_suspension_is_rejected(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    desk = make_vigil(fake_enforcement)
    _, case_id = open_case(desk)
    file_reports(desk, report("rep-1"))
    ask(desk, accounts="acct_1", evidence=f"CASE-{case_id}")
    card(desk)
    # The analyst closes the case as soon as the suspension is asked for: too early to tell.
    resolve(desk, case_id, "actioned", "handed to enforcement")
    desk.run_jobs()
    assert outcome_rows(desk) == [] and fake_enforcement.notice_outcomes == []

    desk.ctx.enforcer.reject(1, LEAD, "the links were the host's own listing")
    eventually(lambda: fake_enforcement.notice_outcomes, what="the reporter to be told")
    [(report_id, body)] = fake_enforcement.notice_outcomes
    assert (report_id, body["outcome"], body["reason"]) == (
        "rep-1",
        "not_actioned",
        "The report was reviewed; the reported account was not suspended.",
    )


def test_a_host_dealt_with_outside_vigil_is_actioned_for_the_reporter_without_the_analysts_note(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_1")
    desk = make_vigil(fake_enforcement)
    _, case_id = open_case(desk)
    file_reports(desk, report("rep-3", reporter="guest_3"))
    # The listing was taken down by the content team: no suspension in Vigil, the case is actioned.
    resolve(desk, case_id, "actioned", "content team removed it; guest_4 and acct_9 also involved")
    eventually(lambda: fake_enforcement.notice_outcomes, what="the reporter to be told")
    [(report_id, body)] = fake_enforcement.notice_outcomes
    assert (report_id, body["outcome"], body["puid"]) == ("rep-3", "actioned", None)
    assert body["reason"] == "The report was reviewed and action was taken on the reported account."
    assert "acct_9" not in json.dumps(body)  # the team's note stays with the team

"""Findings become tracked tickets: a requirement sent to Engineering becomes a Jira issue
(against a fake Jira over real HTTP), or a post in the engineering channel when Jira is not
configured; faults are retried with backoff without ever creating it twice; status changes
come back by poll and webhook and are told in the thread."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.fakes.jira import FakeIssue, FakeJira
from bot.scheduler import SCHEDULE
from store.handoff import Handoff
from store.jobs import Job
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ANALYST, ENGINEERING, ESCALATIONS
from workflows.handoff import JOB_DELIVER, Requirement

WEBHOOK_SECRET = "jira-webhook-secret"
THREAD = "1764000000.000100"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira().start()
    yield fake
    fake.stop()


@pytest.fixture
def with_jira(make_vigil: VigilFactory, jira: FakeJira) -> Vigil:
    return make_vigil(
        settings_update={
            "vigil_jira_url": jira.url,
            "vigil_jira_email": jira.email,
            "vigil_jira_token": SecretStr(jira.token),
            "vigil_jira_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
    )


def requirement(**extra: str) -> Requirement:
    values = {
        "subject_type": "case",
        "subject_ref": "CASE-7",
        "title": "Payment velocity is only found by host reports",
        "problem": "payment_abuse is found by reports 67% of the time, median 10 h after the first signal",
        "evidence": "CASE-7, rep-91, rep-92",
        "impact": "3 accounts in 30 days; median delay 10 h",
        "mitigation": "make the shadow rule pay-velocity live",
        "priority": "P2",
        **extra,
    }
    return Requirement.model_validate(values)


def handoffs(vigil: Vigil) -> list[Handoff]:
    with vigil.db.read() as s:
        return list(s.scalars(select(Handoff).order_by(Handoff.id)))


def retry_later(vigil: Vigil, attempts: int) -> None:
    """Wait until the job runner has scheduled the next attempt, then move time past it."""

    def scheduled() -> bool:
        with vigil.db.read() as s:
            job = s.scalars(select(Job).where(Job.kind == JOB_DELIVER)).one()
            return job.status == "pending" and job.attempts == attempts and job.last_error is not None

    eventually(scheduled)
    vigil.clock.advance(timedelta(minutes=11))
    vigil.ctx.jobs.wake()


def thread_says(vigil: Vigil, words: str) -> dict:
    calls = vigil.slack.wait_for(
        "chat.postMessage", where=lambda c: c.get("thread_ts") == THREAD and words in c.get("text", "")
    )
    return calls[0].args


def test_a_requirement_becomes_a_jira_issue_and_its_moves_come_back(with_jira: Vigil, jira: FakeJira) -> None:
    vigil = with_jira
    sent = vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    (issue,) = eventually(jira.created)
    assert (
        issue.key == "ENG-1" and issue.fields["summary"] == "Payment velocity is only found by host reports"
    )
    assert sent.request_id in issue.fields["labels"] and issue.fields["issuetype"] == {"name": "Task"}
    assert "Impact:\n3 accounts in 30 days" in issue.fields["description"]
    told = thread_says(vigil, "Jira ticket ENG-1 created")
    assert f"{jira.url}/browse/ENG-1" in told["text"]
    row = eventually(lambda: [h for h in handoffs(vigil) if h.ticket_key])[0]
    assert (row.status, row.ticket_url) == ("ticketed", f"{jira.url}/browse/ENG-1")
    assert [h.ticket_key for h in vigil.ctx.handoffs.of_subject("case", "CASE-7")] == ["ENG-1"]

    jira.move("ENG-1", "In Progress")
    assert vigil.ctx.handoffs.poll() == 1
    thread_says(vigil, "ENG-1 (HO-1) moved to In Progress")
    assert vigil.ctx.handoffs.poll() == 0  # nothing new: nobody is told twice

    body = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "ENG-1", "fields": {"status": {"name": "Done"}}},
        }
    ).encode()
    url = f"{vigil.server.url}/api/v1/jira/webhook"
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"X-Hub-Signature": "sha256=00"}).status_code == 401
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(url, content=body, headers={"X-Hub-Signature": f"sha256={signature}"})
    assert answer.status_code == 200 and answer.json() == {
        "ticket": "ENG-1",
        "status": "Done",
        "changed": True,
    }
    thread_says(vigil, "ENG-1 (HO-1) moved to Done")
    by_secret = httpx.post(f"{url}?secret={WEBHOOK_SECRET}", content=b"{not json")
    assert by_secret.status_code == 400
    assert vigil.ctx.handoffs.open_by_age() == []


def test_rate_limits_and_missing_fields_are_retried_and_told_once(with_jira: Vigil, jira: FakeJira) -> None:
    vigil = with_jira
    jira.script = [(429, {"Retry-After": "600"})]
    jira.required = ["customfield_10042"]
    vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    told = thread_says(vigil, "Jira did not take HO-1 yet (Jira 429 rate limited")
    assert "The requirement is kept and retried" in told["text"]
    row = eventually(lambda: [h for h in handoffs(vigil) if h.attempts == 1])[0]
    assert row.status == "queued" and jira.token not in (row.last_error or "")

    def retry_time():  # Jira's Retry-After is honoured: not before 10 minutes
        with vigil.db.read() as s:
            job = s.scalars(select(Job).where(Job.kind == JOB_DELIVER)).one()
            return job.run_at if job.status == "pending" and job.last_error else None

    assert eventually(retry_time) >= vigil.clock.now() + timedelta(seconds=600)
    # The next attempt meets the missing custom field: kept, retried, not told again.
    retry_later(vigil, 1)
    row = eventually(lambda: [h for h in handoffs(vigil) if h.attempts == 2])[0]
    assert "customfield_10042: Field is required." in (row.last_error or "")
    jira.required = []  # the admin fixes the field map
    retry_later(vigil, 2)
    eventually(lambda: jira.created())
    thread_says(vigil, "Jira ticket ENG-1 created")
    failures = [
        c for c in vigil.slack.calls_of("chat.postMessage") if "did not take" in c.args.get("text", "")
    ]
    assert len(failures) == 1 and len(jira.created()) == 1


def test_an_issue_an_earlier_attempt_created_is_found_not_created_twice(
    with_jira: Vigil, jira: FakeJira
) -> None:
    vigil = with_jira
    jira.script = [(503, {})]  # Jira is down for the first attempt
    sent = vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    eventually(lambda: [h for h in handoffs(vigil) if h.attempts == 1])
    # Meanwhile an attempt that died before storing its answer had created the issue.
    jira.issues["ENG-9"] = FakeIssue("ENG-9", {"summary": "x", "labels": ["vigil", sent.request_id]})
    retry_later(vigil, 1)
    thread_says(vigil, "Jira ticket ENG-9 created")
    assert [i.key for i in jira.created()] == ["ENG-9"]
    assert not [c for c in jira.calls if c[0] == "POST"]


def test_without_jira_the_requirement_is_posted_to_the_engineering_channel(vigil: Vigil) -> None:
    vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    post = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ENGINEERING)[0].args
    shown = json.dumps(post["blocks"], ensure_ascii=False)
    assert "HO-1 · Payment velocity is only found by host reports" in shown
    assert "*Suggested mitigation*" in shown and "Jira is not configured" in shown
    thread_says(vigil, "HO-1 was posted to Engineering's channel")
    assert eventually(lambda: [h.status for h in handoffs(vigil) if h.status == "posted"]) == ["posted"]
    # Not configured at all: the webhook is not there.
    answer = httpx.post(f"{vigil.server.url}/api/v1/jira/webhook", content=b"{}")
    assert answer.status_code == 404


def test_send_to_engineering_from_the_coverage_report(vigil: Vigil) -> None:
    vigil.send.block_action(
        "handoff_open",
        json.dumps({"type": "coverage", "ref": "coverage:payment_abuse", "problem": "found late"}),
        channel=ESCALATIONS,
    )
    modal = vigil.slack.wait_for("views.open")[0].args["view"]
    modal = json.loads(modal) if isinstance(modal, str) else modal
    assert modal["callback_id"] == "handoff_submit"
    shown = json.dumps(modal["blocks"])
    assert "found late" in shown and "coverage:payment_abuse" in shown
    meta = modal["private_metadata"]

    def field(value: str) -> dict:
        return {"type": "plain_text_input", "value": value}

    values = {
        "title": {"title": field("x")},  # too short
        "problem": {"problem": field("found late")},
        "priority": {"priority": {"type": "static_select", "selected_option": {"value": "P2"}}},
    }
    refused = vigil.send.view_submission("handoff_submit", values, private_metadata=meta)
    assert refused.json()["response_action"] == "errors" and "title" in refused.json()["errors"]
    values["title"] = {"title": field("payment_abuse is found late")}
    assert vigil.send.view_submission("handoff_submit", values, private_metadata=meta).status_code == 200
    row = eventually(lambda: handoffs(vigil))[0]
    assert (row.subject_type, row.subject_ref, row.priority) == ("coverage", "coverage:payment_abuse", "P2")
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ENGINEERING)


def test_the_scheduler_polls_jira(with_jira: Vigil, jira: FakeJira) -> None:
    vigil = with_jira
    vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    thread_says(vigil, "Jira ticket ENG-1 created")
    jira.move("ENG-1", "In Progress")
    (_name, trigger, job) = next(entry for entry in SCHEDULE if entry[0] == "handoff-poll")
    assert trigger(vigil.ctx).interval == timedelta(minutes=10)
    job(vigil.ctx)()
    thread_says(vigil, "moved to In Progress")


def test_cards_carry_the_send_to_engineering_button(vigil: Vigil) -> None:
    vigil.post("host report: acct_77 is running a payment scam")
    card = vigil.slack.wait_for(
        "chat.postMessage", where=lambda c: "blocks" in c.args and "CASE-" in c.get("text", "")
    )
    shown = json.dumps(card[0].args["blocks"])
    assert '"action_id": "handoff_open"' in shown and "CASE-1" in shown


def test_hand_offs_are_shown_with_their_tickets(with_jira: Vigil, jira: FakeJira) -> None:
    vigil = with_jira
    vigil.ctx.handoffs.send(requirement(), ANALYST, ESCALATIONS, THREAD)
    thread_says(vigil, "Jira ticket ENG-1 created")
    vigil.send.command("/vigil", "handoffs case-7", user=ANALYST)
    shown = vigil.slack.wait_for("response_url")[0].args["text"]
    assert f"<{jira.url}/browse/ENG-1|ENG-1>" in shown and "*HO-1* Payment velocity" in shown
    vigil.send.command("/vigil", "handoffs", user=ANALYST)
    assert "open, oldest first" in vigil.slack.wait_for("response_url", count=2)[1].args["text"]
    vigil.send.command("/vigil", "handoffs INV-99", user=ANALYST)
    assert (
        vigil.slack.wait_for("response_url", count=3)[2].args["text"]
        == "No hand-offs to Engineering about INV-99."
    )


def test_the_case_shows_its_hand_offs(vigil: Vigil) -> None:
    vigil.post("host report: acct_78 is running a payment scam")
    vigil.slack.wait_for("chat.postMessage", where=lambda c: "CASE-1" in c.get("text", ""))
    vigil.ctx.handoffs.send(requirement(subject_ref="CASE-1"), ANALYST, ESCALATIONS, THREAD)
    thread_says(vigil, "HO-1 was posted to Engineering's channel")
    vigil.send.command("/vigil", "case CASE-1", user=ANALYST)
    shown = json.dumps(vigil.slack.wait_for("response_url")[0].args["blocks"], ensure_ascii=False)
    assert (
        "*Engineering*" in shown
        and "*HO-1* Payment velocity" in shown
        and "posted in the engineering channel" in shown
    )

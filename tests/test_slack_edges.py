"""At the edges of Slack: an escalation survives a failing database, a card is never posted
twice, long lists and long texts never reach a person cut or broken."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from store.escalations import Case
from store.jobs import Job
from store.slack_events import SlackEventSeen
from tests.conftest import ESCALATIONS, OUTSIDER, Vigil, eventually
from tests.harness.faults import failing


def _job(vigil: Vigil, key: str) -> Job | None:
    with vigil.db.read() as session:
        return session.scalars(select(Job).where(Job.key == key)).first()


def _count(vigil: Vigil, model: type) -> int:
    with vigil.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_escalation_whose_intake_fails_once_is_retried_and_becomes_one_case(vigil: Vigil) -> None:
    event = {
        "type": "message",
        "channel": ESCALATIONS,
        "user": OUTSIDER,
        "text": "urgent: host acct_9001 is threatening a guest",
        "ts": "1764300000.000100",
    }
    # The database is busy at the moment the case would be written.
    with failing(vigil.db, "INSERT INTO cases") as fault:
        assert vigil.send.event(event, event_id="Ev0LOST001").status_code == 200  # acked all the same
        eventually(lambda: (job := _job(vigil, "slack-event:Ev0LOST001")) and job.last_error)
    assert fault.fired == 1
    job = _job(vigil, "slack-event:Ev0LOST001")
    assert job is not None and job.status == "pending" and "OperationalError" in (job.last_error or "")
    assert _count(vigil, Case) == 0
    # Slack does not redeliver an acked event: the jobs table retries it after its backoff.
    vigil.clock.advance(timedelta(minutes=5))
    vigil.ctx.jobs.wake()
    case = eventually(lambda: _case(vigil, event["ts"]))
    assert case.priority == "P1"
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == event["ts"])
    eventually(lambda: (job := _job(vigil, "slack-event:Ev0LOST001")) and job.status == "done")
    # A late redelivery of the same event id does nothing at all.
    assert vigil.send.event(event, event_id="Ev0LOST001", retry_num=1).status_code == 200
    vigil.run_jobs()
    assert _count(vigil, Case) == 1
    assert _count(vigil, SlackEventSeen) == 1
    with vigil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "slack.event")) == 1
    cards = [c for c in vigil.slack.calls_of("chat.postMessage") if c.get("thread_ts") == event["ts"]]
    assert len(cards) == 1


def test_an_event_is_not_acked_when_it_cannot_be_recorded_so_slack_delivers_it_again(vigil: Vigil) -> None:
    event = {
        "type": "message",
        "channel": ESCALATIONS,
        "user": OUTSIDER,
        "text": "guest acct_77 reports a scam",
        "ts": "1764300000.000200",
    }
    with failing(vigil.db, "INSERT INTO jobs"):
        assert vigil.send.event(event, event_id="Ev0DOWN001").status_code >= 500
    assert _count(vigil, SlackEventSeen) == 0  # the id was not kept without its work
    assert vigil.send.event(event, event_id="Ev0DOWN001", retry_num=1).status_code == 200
    assert eventually(lambda: _case(vigil, event["ts"])).category == "user_report"


def _case(vigil: Vigil, ts: str) -> Case | None:
    with vigil.db.read() as session:
        return session.scalars(select(Case).where(Case.ts == ts)).first()

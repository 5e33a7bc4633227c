"""What must still happen before the ack, now that the ack is fast: the event id and its job
are taken once, roles are checked, and Bolt's listener contract holds (an ack's body is the
answer, a listener that fails before acking is a 500, one that never acks is not a 200)."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.fakes.slack import FakeSlack
from bot.listener_runner import answer_on_ack
from commands.listeners import acks_at_once
from store.jobs import Job
from store.slack_events import SlackEventSeen
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, ESCALATIONS, OUTSIDER


def _count(vigil: Vigil, model: Any, *where: Any) -> int:
    with vigil.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_message_delivered_three_times_is_taken_once_with_one_job(vigil: Vigil) -> None:
    event = {
        "type": "message",
        "channel": ESCALATIONS,
        "user": OUTSIDER,
        "text": "guest acct_91 reports a scam",
        "ts": "1764300000.000901",
    }
    vigil.ctx.jobs.stop()  # the job stays in the table, where we can count it
    for retry in (None, 1, 2):
        assert vigil.send.event(event, event_id="Ev0THRICE1", retry_num=retry).status_code == 200
    assert _count(vigil, SlackEventSeen, SlackEventSeen.event_id == "Ev0THRICE1") == 1
    assert _count(vigil, Job, Job.key == "slack-event:Ev0THRICE1") == 1


def test_an_event_nobody_handles_is_remembered_but_queues_no_work(vigil: Vigil) -> None:
    event = {"type": "member_joined_channel", "user": ANALYST, "channel": ESCALATIONS}
    assert vigil.send.event(event, event_id="Ev0NOBODY1").status_code == 200
    assert vigil.send.event(event, event_id="Ev0NOBODY1", retry_num=1).status_code == 200
    assert _count(vigil, SlackEventSeen, SlackEventSeen.event_id == "Ev0NOBODY1") == 1
    assert _count(vigil, Job, Job.key == "slack-event:Ev0NOBODY1") == 0


def test_an_outsider_asking_for_the_audit_is_refused_in_the_ack_and_nothing_runs(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "audit", user=OUTSIDER)
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "only Vigil admins" in response.json()["text"]
    assert vigil.send.command("/vigil", "help", user=OUTSIDER).status_code == 200
    replies = vigil.slack.wait_for("response_url")  # the help arrives; no audit ever does
    assert all("Audit log" not in str(reply.get("text")) for reply in replies)


# --- the listener runner, on a bare Bolt app ----------------------------------------------------
def _app(fake_slack: FakeSlack) -> App:
    return answer_on_ack(
        App(
            client=WebClient("xoxb-test", base_url=fake_slack.api_url),
            signing_secret="unused",
            request_verification_enabled=False,
        )
    )


def _command(app: App, command: str) -> Any:
    body = urlencode({"command": command, "text": "", "user_id": ANALYST, "team_id": "T0TEAM001"})
    return app.dispatch(BoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"}))


def test_an_ack_with_words_is_the_answer(fake_slack: FakeSlack) -> None:
    app = _app(fake_slack)

    @app.command("/words")
    def words(ack: Ack) -> None:
        ack(text="on it")

    response = _command(app, "/words")
    assert response.status == 200 and "on it" in response.body


def test_a_listener_that_fails_before_acking_is_a_500(fake_slack: FakeSlack) -> None:
    app = _app(fake_slack)
    errors: list[Exception] = []
    app.error(lambda error: errors.append(error))

    @app.command("/broken")
    def broken(ack: Ack) -> None:
        raise RuntimeError("before the ack")

    assert _command(app, "/broken").status == 500
    assert [str(e) for e in errors] == ["before the ack"]


def test_a_listener_that_never_acks_is_not_answered_as_if_it_had(fake_slack: FakeSlack) -> None:
    app = _app(fake_slack)

    @app.command("/silent")
    def silent() -> None:
        return None

    assert _command(app, "/silent").status != 200


def test_a_listener_marked_acks_at_once_is_acked_while_it_is_still_working(fake_slack: FakeSlack) -> None:
    app = _app(fake_slack)
    release, finished = threading.Event(), threading.Event()

    @app.command("/slow")
    @acks_at_once
    def slow(ack: Ack) -> None:
        ack()
        release.wait(10)
        finished.set()

    response = _command(app, "/slow")
    assert response.status == 200
    assert not finished.is_set()  # answered while the listener still waits
    release.set()
    assert finished.wait(10)

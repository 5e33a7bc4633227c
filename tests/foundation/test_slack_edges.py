"""At the edges of Slack: an escalation survives a failing database, a card is never posted
twice, long lists and long texts never reach a person cut or broken."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from commands.blocks.common import slack_len
from store.cases import Case, CaseEvent
from store.enforcement import EnforcementRequest
from store.jobs import Job
from store.slack_events import SlackEventSeen
from tests.harness.enforcement_steps import actions, ask, card, click, modal_values, request_row
from tests.harness.faults import failing
from tests.harness.vigil import Vigil, VigilFactory, eventually
from tests.harness.world import ANALYST, ANALYST_2, APPROVALS, ESCALATIONS, LEAD, OUTSIDER


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


# --- /suspend with more than a form holds ------------------------------------------------------
def _modal(vigil: Vigil, count: int = 1) -> dict:
    return vigil.slack.wait_for("views.open", count=count)[count - 1]["view"]


def _ids_in(view: dict) -> list[str]:
    """Account ids the modal shows (its placeholders are examples, not ids)."""
    blocks = [{**b, "element": {**b.get("element", {}), "placeholder": None}} for b in view["blocks"]]
    return re.findall(r"acct_\w+", json.dumps(blocks))


def test_a_suspend_of_350_accounts_shows_no_cut_id_and_requests_all_of_them(vigil: Vigil) -> None:
    typed = [f"acct_{n}" for n in range(1000, 1350)]  # 3,500 characters: more than an input holds
    assert vigil.send.command("/suspend", " ".join(typed) + " spam CASE-12", user=ANALYST).status_code == 200
    view = _modal(vigil)
    shown = json.dumps(view)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert "initial_value" not in blocks["accounts"]["element"]  # left for adding more, not a cut list
    assert blocks["accounts"]["optional"] is True
    assert "350 accounts from your command" in shown
    assert set(_ids_in(view)) <= set(typed)  # every id in front of the analyst is one they typed, whole
    assert "acct_" not in view["private_metadata"] and len(view["private_metadata"]) < 200
    # They add one more by hand and submit.
    response = vigil.send.view_submission(
        "enforcement_request",
        modal_values(accounts="acct_9999", reason="spam", evidence="CASE-12"),
        user=ANALYST,
        private_metadata=view["private_metadata"],
    )
    assert response.status_code == 200 and not response.content
    card(vigil, 1)
    assert set(actions(vigil, 1)) == {*typed, "acct_9999"}
    assert request_row(vigil, 1).account_count == 351
    # The same form cannot be submitted again into a second request.
    again = vigil.send.view_submission(
        "enforcement_request",
        modal_values(reason="spam"),
        user=ANALYST,
        private_metadata=view["private_metadata"],
    )
    assert "expired or was already submitted" in again.json()["errors"]["accounts"]


def test_someone_else_cannot_submit_an_analysts_kept_ids(vigil: Vigil) -> None:
    typed = [f"acct_{n}" for n in range(5000, 5400)] + ["acct#12"]
    vigil.send.command("/suspend", " ".join(typed) + " spam", user=ANALYST)
    view = _modal(vigil)
    assert "400 accounts from your command" in json.dumps(view)
    assert "`acct#12`" in json.dumps(view)  # told, not silently dropped
    response = vigil.send.view_submission(
        "enforcement_request",
        modal_values(reason="spam"),
        user=ANALYST_2,
        private_metadata=view["private_metadata"],
    )
    assert "expired or was already submitted" in response.json()["errors"]["accounts"]
    assert _count(vigil, EnforcementRequest) == 0


def test_a_long_evidence_fits_the_form_uncut_links_and_reaches_the_request_whole(vigil: Vigil) -> None:
    links = [f"https://reports.example.com/abuse/2026/11/23/evidence-{n:03d}?view=full" for n in range(70)]
    vigil.send.command("/suspend", "acct_1 spam " + " ".join(links), user=ANALYST)
    view = _modal(vigil)
    evidence = {b.get("block_id"): b for b in view["blocks"]}["evidence"]["element"]
    prefilled = evidence["initial_value"]
    assert len("\n".join(links)) > 4000
    assert slack_len(prefilled) <= evidence["max_length"] == 3000
    assert prefilled.endswith("…")
    assert all(line in links for line in prefilled.removesuffix("…").splitlines())  # no link cut
    vigil.send.view_submission(
        "enforcement_request",
        modal_values(accounts="acct_1", reason="spam", evidence=prefilled),
        user=ANALYST,
        private_metadata=view["private_metadata"],
    )
    card(vigil, 1)
    assert request_row(vigil, 1).evidence == "\n".join(links)


# --- the "Create Vigil case" shortcut on a long message ------------------------------------------
def _shortcut(vigil: Vigil, message: dict, user: str = ANALYST, channel: str = "C0GENERAL") -> None:
    response = vigil.send.interactive(
        {
            "type": "message_action",
            "callback_id": "create_case",
            "trigger_id": f"t.{message['ts']}",
            "user": {"id": user},
            "channel": {"id": channel},
            "message": message,
            "response_url": vigil.send.response_url,
        }
    )
    assert response.status_code == 200


CATEGORY_P2 = {
    "category": {"category": {"selected_option": {"value": "user_report"}}},
    "priority": {"priority": {"selected_option": {"value": "P2"}}},
}


def test_the_shortcut_on_a_long_cyrillic_or_emoji_message_opens_and_keeps_the_whole_text(
    vigil: Vigil,
) -> None:
    cyrillic = "acct_4242 " + "мошенничество " * 40  # 520 Cyrillic letters
    emoji = "acct_777 🚨" + "😡" * 240
    for n, text in enumerate((cyrillic, emoji), start=1):
        ts = f"176440000{n}.000100"
        _shortcut(vigil, {"ts": ts, "user": OUTSIDER, "text": text})
        view = _modal(vigil, n)
        assert len(view["private_metadata"]) < 100 and text[:10] not in view["private_metadata"]
        response = vigil.send.view_submission(
            "case_create", CATEGORY_P2, user=ANALYST, private_metadata=view["private_metadata"]
        )
        assert response.status_code == 200 and not response.content
        case = eventually(lambda ts=ts: _case(vigil, ts))
        assert case.text == text and case.source == "shortcut"
    assert sum("\u0430" <= ch.lower() <= "\u044f" for ch in cyrillic) >= 480  # a…ya


def test_a_shortcut_form_submitted_by_someone_else_or_twice_creates_nothing_more(vigil: Vigil) -> None:
    _shortcut(vigil, {"ts": "1764400009.000100", "user": OUTSIDER, "text": "acct_1 scam"})
    meta = _modal(vigil)["private_metadata"]
    other = vigil.send.view_submission("case_create", CATEGORY_P2, user=ANALYST_2, private_metadata=meta)
    assert "expired or was already used" in other.json()["errors"]["category"]
    assert vigil.send.view_submission("case_create", CATEGORY_P2, user=ANALYST, private_metadata=meta)
    eventually(lambda: _case(vigil, "1764400009.000100"))
    again = vigil.send.view_submission("case_create", CATEGORY_P2, user=ANALYST, private_metadata=meta)
    assert "expired or was already used" in again.json()["errors"]["category"]
    assert _count(vigil, Case) == 1


# --- /vigil case: a long timeline -------------------------------------------------------------
ENTITY_OR_MENTION = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def test_a_long_case_timeline_is_cut_between_mentions_never_inside_one(vigil: Vigil) -> None:
    ts = vigil.post("user acct_5 harassment report")
    case = eventually(lambda: _case(vigil, ts))
    # A busy thread, far more than a section holds. (These lengths put a cut at a fixed index
    # inside the <@U0ANA0001> that opens the twelfth note's line.)
    for n in range(12):
        vigil.post("Q&A" + "&" * 40 + f"<@{ANALYST_2}> #{n}", user=ANALYST, thread_ts=ts)
        eventually(lambda n=n: _notes(vigil, case.id) == n + 1)
    vigil.send.command("/vigil", f"case {case.ref}", user=ANALYST)
    blocks = vigil.slack.wait_for("response_url")[0]["blocks"]
    timeline = next(b["text"]["text"] for b in blocks if "*Timeline*" in b.get("text", {}).get("text", ""))
    assert slack_len(timeline) <= 3000 and timeline.endswith("…")
    assert f"<@{ANALYST}>" in timeline
    leftover = ENTITY_OR_MENTION.sub("", timeline)
    assert "<" not in leftover and ">" not in leftover and "&" not in leftover, leftover[-80:]


def _notes(vigil: Vigil, case_id: int) -> int:
    with vigil.db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "note")
            )
            or 0
        )


# --- a card is posted once, even when Vigil fails right after posting it ---------------------------
def _card_metadata(kind: str, card_id: int) -> dict:
    return {"event_type": "vigil_card", "event_payload": {"kind": kind, "id": card_id}}


def test_a_case_card_posted_just_before_a_failure_is_adopted_not_posted_again(vigil: Vigil) -> None:
    with failing(vigil.db, "UPDATE cases SET card_ts") as fault:
        ts = vigil.post("host acct_31 runs a fake listing")
        case = eventually(lambda: _case(vigil, ts))
        eventually(lambda: (job := _job(vigil, f"case-card:{case.id}")) and job.last_error)
    assert fault.fired == 1
    # Slack has the card; Vigil never stored where it is.
    assert len(vigil.slack.posted(ESCALATIONS, thread_ts=ts)) == 1
    assert eventually(lambda: _case(vigil, ts)).card_ts is None
    vigil.clock.advance(timedelta(minutes=10))
    vigil.ctx.jobs.wake()
    stored = eventually(lambda: (found := _case(vigil, ts)) and found.card_ts)
    cards = vigil.slack.posted(ESCALATIONS, thread_ts=ts)
    assert len(cards) == 1 and cards[0]["ts"] == stored
    assert cards[0]["metadata"] == _card_metadata("case", case.id)
    lookups = vigil.slack.calls_of("conversations.replies")
    assert lookups and all(c["include_all_metadata"] in ("1", "true") for c in lookups)


def test_an_approval_card_posted_before_a_crash_is_adopted_after_a_restart(make_vigil: VigilFactory) -> None:
    first = make_vigil()
    with failing(first.db, "UPDATE enforcement_requests SET card_channel") as fault:
        assert ask(first, accounts="acct_1 acct_2", reason="spam").status_code == 200
        eventually(lambda: (job := _job(first, "enforcement-announce:1")) and job.last_error)
    assert fault.fired == 1
    first.stop()  # the process dies: the card is in Slack, its ts nowhere in Vigil
    assert [m["text"].split(" ")[0] for m in first.slack.posted(APPROVALS)] == ["REQ-1"]
    first.clock.advance(timedelta(minutes=10))
    second = make_vigil()
    eventually(lambda: request_row(second, 1).card_ts is not None)
    cards = second.slack.posted(APPROVALS)
    assert len(cards) == 1 and cards[0]["ts"] == request_row(second, 1).card_ts
    assert cards[0]["metadata"] == _card_metadata("request", 1)
    # The requester is told where it is, once, and approvers decide on that one card.
    second.slack.wait_for("chat.postEphemeral", where=lambda c: "waiting for approval" in c["text"])
    click(second, "enforcement_approve", 1, user=LEAD)
    eventually(lambda: request_row(second, 1).status != "pending_approval")
    assert len(second.slack.posted(APPROVALS)) == 1
    told = [c for c in second.slack.calls_of("chat.postEphemeral") if "waiting for approval" in c["text"]]
    assert len(told) == 1

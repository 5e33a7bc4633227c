"""A T&S day in the escalation channel: messages become cases, analysts claim, escalate
and resolve them from Slack, and the SLA clock keeps everyone honest."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.fakes.slack import Call
from store.cases import Case, CaseEvent
from store.jobs import Job
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ALERTS, ANALYST, ANALYST_2, ESCALATIONS, LEAD, OUTSIDER
from workflows.cases import JOB_ALERT, Cases
from workflows.jobs import JobRunner, enqueue


def case_for(vigil: Vigil, ts: str, channel: str = ESCALATIONS) -> Case:
    def find() -> Case | None:
        with vigil.db.read() as session:
            return session.scalars(select(Case).where(Case.channel == channel, Case.ts == ts)).first()

    return eventually(find)


def card_for(vigil: Vigil, ts: str) -> Call:
    return vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)[0]


def events_of(vigil: Vigil, case_id: int) -> list[str]:
    with vigil.db.read() as session:
        return list(
            session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        )


def latest_card(vigil: Vigil, case: Case) -> str:
    """What the card in the thread shows now (the last post or update of it)."""
    updates = [c for c in vigil.slack.calls_of("chat.update") if c.get("channel") == case.channel]
    return json.dumps(updates[-1]["blocks"] if updates else card_for(vigil, case.ts)["blocks"])


def job_error(vigil: Vigil, key: str) -> str | None:
    with vigil.db.read() as session:
        job = session.scalars(select(Job).where(Job.key == key)).first()
        return job.last_error if job and job.status == "pending" else None


def current(vigil: Vigil, case_id: int) -> Case:
    with vigil.db.read() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found


def test_a_message_in_an_escalation_channel_becomes_a_case_with_a_card(vigil: Vigil) -> None:
    ts = vigil.post(
        "Host acct_4471 is running a crypto giveaway scam, guests are losing money. account 99812"
    )
    case = case_for(vigil, ts)
    assert (case.category, case.priority, case.status) == ("host_report", "P2", "new")
    assert case.sla_due_at == vigil.clock.now() + timedelta(hours=4)
    card = card_for(vigil, ts)
    assert card["channel"] == ESCALATIONS
    blocks = json.dumps(card["blocks"])
    for expected in (
        "CASE-1",
        "Host report",
        "P2",
        "acct_4471",
        "99812",
        "<!date^",
        "case_claim",
        "case_resolve",
    ):
        assert expected in blocks
    eventually(lambda: "card_posted" in events_of(vigil, case.id))
    assert current(vigil, case.id).card_ts == card_for(vigil, ts).response["ts"]
    assert current(vigil, case.id).permalink


def test_integrations_and_file_shares_become_cases_but_joins_and_other_channels_do_not(vigil: Vigil) -> None:
    ts = vigil.post(
        "",
        user=None,
        subtype="bot_message",
        bot_id="B0ZENDESK",
        attachments=[{"fallback": "Ticket 5512: user acct_77 reports harassment"}],
    )
    assert case_for(vigil, ts).author_is_bot
    shared = vigil.post("screenshot of the phishing page", subtype="file_share", files=[{"id": "F1"}])
    assert case_for(vigil, shared).category == "other"
    vigil.post("", subtype="channel_join")
    vigil.post("lunch?", channel="C0RANDOM1")
    vigil.send.event(
        {
            "type": "message",
            "channel": ESCALATIONS,
            "bot_id": "B0VIGIL01",
            "user": "U0VIGIL01",
            "text": "my own card",
            "ts": "1764999999.000001",
        }
    )
    eventually(lambda: len(vigil.slack.calls_of("chat.postMessage")) >= 2)
    with vigil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2


def test_a_retried_delivery_creates_one_case_and_one_card(vigil: Vigil) -> None:
    event = {
        "type": "message",
        "channel": ESCALATIONS,
        "user": OUTSIDER,
        "text": "please suspend acct_1",
        "ts": "1764100000.000100",
    }
    for retry in (None, 1, 2):
        assert vigil.send.event(event, event_id="Ev0DUP0001", retry_num=retry).status_code == 200
    # A second replica got its own delivery id for the same message.
    assert vigil.send.event(event, event_id="Ev0DUP0002").status_code == 200
    card_for(vigil, "1764100000.000100")
    vigil.run_jobs()
    with vigil.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    cards = [c for c in vigil.slack.calls_of("chat.postMessage") if c.get("thread_ts") == "1764100000.000100"]
    assert len(cards) == 1


def test_an_analyst_reacts_eyes_and_the_case_is_theirs(vigil: Vigil) -> None:
    ts = vigil.post("user acct_12 keeps sending threats to a host")
    case = case_for(vigil, ts)
    card_for(vigil, ts)
    vigil.react(ts, "eyes", user=ANALYST)
    claimed = eventually(lambda: current(vigil, case.id).claimed_by)
    assert claimed == ANALYST and current(vigil, case.id).claimed_at == vigil.clock.now()
    vigil.slack.wait_for("chat.update")
    assert f"Claimed by <@{ANALYST}>" in latest_card(vigil, case)
    assert "case_claim" not in latest_card(vigil, case)


def test_a_second_analyst_cannot_take_a_claimed_case(vigil: Vigil) -> None:
    ts = vigil.post("appeal: please reinstate acct_5")
    case = case_for(vigil, ts)
    vigil.react(ts, "eyes", user=ANALYST)
    eventually(lambda: current(vigil, case.id).claimed_by)
    vigil.react(ts, "eyes", user=ANALYST_2)
    note = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)[0]
    assert f"already claimed by <@{ANALYST}>" in note["text"]
    assert current(vigil, case.id).claimed_by == ANALYST
    # The Claim button, clicked late by the second analyst, says the same.
    vigil.send.block_action("case_claim", str(case.id), user=ANALYST_2)
    vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2, count=2)


def test_the_owner_releases_by_removing_the_reaction_and_nobody_else_can(vigil: Vigil) -> None:
    ts = vigil.post("guest report about host acct_9")
    case = case_for(vigil, ts)
    vigil.react(ts, "eyes", user=ANALYST)
    eventually(lambda: current(vigil, case.id).claimed_by)
    vigil.react(ts, "eyes", user=ANALYST_2, removed=True)  # never had it
    vigil.react(ts, "eyes", user=ANALYST, removed=True)
    eventually(lambda: "released" in events_of(vigil, case.id))
    assert current(vigil, case.id).claimed_by is None and current(vigil, case.id).status == "new"
    assert events_of(vigil, case.id).count("released") == 1


def test_a_non_analyst_reaction_does_nothing_and_says_so_privately(vigil: Vigil) -> None:
    ts = vigil.post("host acct_3 is spamming")
    case = case_for(vigil, ts)
    vigil.react(ts, "eyes", user=OUTSIDER)
    note = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == OUTSIDER)[0]
    assert "only Vigil analysts" in note["text"]
    assert current(vigil, case.id).claimed_by is None
    # Any other reaction is nobody's business.
    vigil.react(ts, "thumbsup", user=OUTSIDER)
    vigil.react(ts, "eyes", user=LEAD)  # approvers may act as analysts
    eventually(lambda: current(vigil, case.id).claimed_by == LEAD)
    assert len(vigil.slack.calls_of("chat.postEphemeral")) == 1


def test_resolving_from_the_card_asks_for_the_outcome(vigil: Vigil) -> None:
    ts = vigil.post("cx ticket: user says their account was hacked, acct_31")
    case = case_for(vigil, ts)
    card_for(vigil, ts)
    vigil.send.block_action("case_resolve", str(case.id), user=ANALYST, message_ts=ts)
    modal = vigil.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "case_resolve"
    meta = modal["private_metadata"]
    # Submitting without an outcome is an inline error, and nothing changes.
    missing = vigil.send.view_submission(
        "case_resolve",
        {"outcome": {"outcome": {"selected_option": None}}},
        user=ANALYST,
        private_metadata=meta,
    )
    assert missing.json() == {"response_action": "errors", "errors": {"outcome": "Pick how the case ended."}}
    values = {
        "outcome": {"outcome": {"selected_option": {"value": "actioned"}}},
        "note": {"note": {"value": "suspended via REQ-1 <!channel>"}},
    }
    assert (
        vigil.send.view_submission("case_resolve", values, user=ANALYST, private_metadata=meta).status_code
        == 200
    )
    eventually(lambda: current(vigil, case.id).status == "resolved")
    resolved = current(vigil, case.id)
    assert (resolved.outcome, resolved.resolved_by) == ("actioned", ANALYST)
    eventually(lambda: "Resolved (Actioned)" in latest_card(vigil, case))
    assert "case_escalate" not in latest_card(vigil, case)
    # Someone resolves it again from a stale card: told, nothing changes.
    vigil.send.block_action("case_resolve", str(case.id), user=ANALYST_2)
    late = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)[0]
    assert "already resolved" in late["text"]
    assert events_of(vigil, case.id).count("resolved") == 1


def test_resolving_by_reaction_offers_outcome_buttons(vigil: Vigil) -> None:
    ts = vigil.post("duplicate of yesterday's report on host acct_8")
    case = case_for(vigil, ts)
    vigil.react(ts, "white_check_mark", user=ANALYST)
    prompt = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST)[0]
    assert "case_outcome_duplicate" in json.dumps(prompt["blocks"])
    vigil.send.block_action("case_outcome_duplicate", f"{case.id}:duplicate", user=ANALYST)
    eventually(lambda: current(vigil, case.id).outcome == "duplicate")
    assert "resolved" in vigil.slack.wait_for("response_url")[0]["text"]


def test_escalating_raises_priority_one_level_and_tells_the_alerts_channel(vigil: Vigil) -> None:
    ts = vigil.post("user acct_40 is posting spam links")
    case = case_for(vigil, ts)
    assert case.priority == "P3"
    vigil.react(ts, "rotating_light", user=ANALYST)
    eventually(lambda: current(vigil, case.id).priority == "P2")
    assert current(vigil, case.id).sla_due_at == case.created_at + timedelta(hours=4)
    alert = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert "CASE-1 escalated P3 → P2" in alert["text"]
    vigil.send.block_action("case_escalate", str(case.id), user=ANALYST_2)
    eventually(lambda: current(vigil, case.id).priority == "P1")
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS, count=2)


def job_payload(vigil: Vigil, key: str) -> dict[str, object]:
    with vigil.db.read() as session:
        job = session.scalars(select(Job).where(Job.key == key)).one()
        return dict(job.payload)


def test_an_escalation_is_queued_as_what_happened_and_worded_by_slack(vigil: Vigil) -> None:
    """The job a workflow queues says what happened (a code and its fields), never Slack text:
    the Slack adapter words it, the same words as ever."""
    ts = vigil.post("user acct_41 is posting spam links")
    case = case_for(vigil, ts)
    card_for(vigil, ts)
    vigil.send.block_action("case_escalate", str(case.id), user=ANALYST)
    alert = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert alert["text"].startswith(f"CASE-1 escalated P3 → P2 by <@{ANALYST}>")
    payload = job_payload(vigil, f"case-escalated:{case.id}:1")
    assert payload == {
        "case_id": case.id,
        "notice": "escalated",
        "fields": {"from": "P3", "to": "P2", "by": ANALYST},
    }
    assert "<@" not in json.dumps(payload)


def test_a_claimed_case_that_breaches_names_its_owner(vigil: Vigil) -> None:
    ts = vigil.post("urgent: a guest threatens host acct_42")
    case = case_for(vigil, ts)
    card_for(vigil, ts)
    vigil.react(ts, "eyes", user=ANALYST_2)
    eventually(lambda: current(vigil, case.id).claimed_by)
    vigil.clock.advance(timedelta(minutes=46))
    assert vigil.ctx.cases.check_sla().nudged == ["CASE-1"]
    nudge = vigil.slack.wait_for("chat.postMessage", where=lambda c: "75%" in (c.get("text") or ""))[0]
    assert nudge["text"] == f":hourglass_flowing_sand: CASE-1 is 75% through its P1 SLA. <@{ANALYST_2}>."
    vigil.clock.advance(timedelta(minutes=15))
    assert vigil.ctx.cases.check_sla().breached == ["CASE-1"]
    breach = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert breach["text"].startswith(
        f":rotating_light: CASE-1 (P1) breached its SLA, claimed by <@{ANALYST_2}>."
    )
    assert job_payload(vigil, f"sla-breach:{case.id}")["fields"] == {"priority": "P1", "owner": ANALYST_2}


def test_a_notice_queued_as_text_before_an_upgrade_is_still_posted(vigil: Vigil) -> None:
    """Jobs outlive a deploy: one the previous version queued, its words written in it, is
    posted as written by the version that finds it."""
    ts = vigil.post("user acct_43 is posting spam links")
    case = case_for(vigil, ts)
    card_for(vigil, ts)
    with vigil.db.transaction() as session:
        enqueue(
            session,
            vigil.clock,
            JOB_ALERT,
            {"case_id": case.id, "text": f"CASE-1 escalated P3 → P2 by <@{ANALYST}>"},
            key=f"case-escalated:{case.id}:1",
        )
    vigil.ctx.jobs.wake()
    alert = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert alert["text"].startswith(f"CASE-1 escalated P3 → P2 by <@{ANALYST}>")


def test_thread_replies_are_notes_and_edits_and_deletions_are_kept(vigil: Vigil) -> None:
    ts = vigil.post("host acct_60 asked guests to pay off-platform")
    case = case_for(vigil, ts)
    reply = vigil.post("checked: 3 prior reports", user=ANALYST, thread_ts=ts)
    eventually(lambda: "note" in events_of(vigil, case.id))
    vigil.send.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": ESCALATIONS,
            "ts": "1764.9",
            "message": {"ts": reply, "user": ANALYST, "text": "checked: 4 prior reports"},
            "previous_message": {"ts": reply, "text": "checked: 3 prior reports"},
        }
    )
    vigil.send.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": ESCALATIONS,
            "ts": "1764.8",
            "message": {"ts": ts, "user": OUTSIDER, "text": "edited: never mind"},
            "previous_message": {"ts": ts, "text": "host acct_60 asked guests to pay off-platform"},
        }
    )
    vigil.send.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": ESCALATIONS,
            "ts": "1764.7",
            "deleted_ts": ts,
            "previous_message": {"ts": ts, "text": "edited: never mind"},
        }
    )
    # Slack's three deliveries are handled side by side: wait for all of them.
    kept_kinds = {"note", "note_edited", "message_edited", "message_deleted"}
    eventually(lambda: kept_kinds <= set(events_of(vigil, case.id)))
    kept = current(vigil, case.id)
    assert kept.text == "host acct_60 asked guests to pay off-platform" and kept.source_deleted
    # A reply in some other thread is nobody's note.
    vigil.post("unrelated", user=ANALYST, thread_ts="1700000000.000001")


def test_hostile_text_is_stored_as_is_and_never_pings_anyone(vigil: Vigil) -> None:
    text = "<!channel> <@U0LEAD001> Tom & Jerry <script> 🚨 e\u0301 " + "x" * 40_000
    ts = vigil.post(text)
    case = case_for(vigil, ts)
    assert current(vigil, case.id).text == text
    card = card_for(vigil, ts)
    rendered = json.dumps(card["blocks"])
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert "Tom &amp; Jerry" in rendered and "&lt;script&gt;" in rendered
    assert len(rendered) < 6000
    assert "<!channel>" not in card["text"]


def test_a_slack_failure_while_posting_the_card_loses_nothing(vigil: Vigil) -> None:
    vigil.slack.fail("chat.postMessage", error="fatal_error", times=1)
    ts = vigil.post("fraud ring: acct_100 acct_101 acct_102")
    case = case_for(vigil, ts)
    vigil.slack.wait_for("chat.postMessage")  # the failed attempt
    eventually(lambda: job_error(vigil, f"case-card:{case.id}"))  # recorded, and a retry scheduled
    assert current(vigil, case.id).card_ts is None
    vigil.clock.advance(timedelta(minutes=5))  # the retry comes due
    eventually(lambda: current(vigil, case.id).card_ts)
    assert len([c for c in vigil.slack.calls_of("chat.postMessage") if c.get("thread_ts") == ts]) == 2


def test_sla_nudge_at_75_percent_and_breach_at_100_each_posted_once(vigil: Vigil) -> None:
    ts = vigil.post("URGENT: user acct_66 is threatening a host")
    case = case_for(vigil, ts)
    assert case.priority == "P1"
    card_for(vigil, ts)
    # A second replica's scheduler, with its own job runner.
    replica = Cases(vigil.db, vigil.clock, vigil.ctx.config, JobRunner(vigil.db, vigil.clock))
    vigil.clock.advance(timedelta(minutes=44))
    assert vigil.ctx.cases.check_sla().nudged == []
    vigil.clock.advance(timedelta(minutes=2))
    assert vigil.ctx.cases.check_sla().nudged == ["CASE-1"]
    assert replica.check_sla().nudged == []
    nudge = vigil.slack.wait_for("chat.postMessage", where=lambda c: "75%" in (c.get("text") or ""))[0]
    assert nudge["thread_ts"] == ts and "Nobody has claimed it yet" in nudge["text"]
    vigil.clock.advance(timedelta(minutes=15))
    assert vigil.ctx.cases.check_sla().breached == ["CASE-1"]
    assert replica.check_sla().breached == [] and vigil.ctx.cases.check_sla().breached == []
    breach = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert "CASE-1 (P1) breached its SLA" in breach["text"]
    vigil.run_jobs()
    assert len([c for c in vigil.slack.calls_of("chat.postMessage") if "75%" in (c.get("text") or "")]) == 1
    assert len([c for c in vigil.slack.calls_of("chat.postMessage") if c["channel"] == ALERTS]) == 1
    assert events_of(vigil, case.id).count("sla_breached") == 1


def test_resolved_cases_are_never_nudged(vigil: Vigil) -> None:
    ts = vigil.post("urgent: threat against host acct_2")
    case = case_for(vigil, ts)
    vigil.ctx.cases.resolve(case.id, ANALYST, "no_action")
    vigil.clock.advance(timedelta(hours=3))
    report = vigil.ctx.cases.check_sla()
    assert report.nudged == [] and report.breached == []


def test_the_queue_puts_the_most_urgent_first(vigil: Vigil) -> None:
    low = vigil.post("fyi: user acct_1 changed their name a lot")
    normal = vigil.post("user acct_2 posting spam")
    vigil.clock.advance(timedelta(minutes=10))
    urgent = vigil.post("urgent threat from guest acct_3")
    done = vigil.post("phishing link from host acct_4")
    for ts in (low, normal, urgent, done):
        case_for(vigil, ts)
    vigil.ctx.cases.resolve(case_for(vigil, done).id, ANALYST, "actioned")
    vigil.send.command("/vigil", "queue", user=ANALYST)
    reply = vigil.slack.wait_for("response_url")[0]
    text = json.dumps(reply["blocks"])
    assert "Open cases (3)" in text
    positions = [re.search(rf"{case_for(vigil, ts).ref}\b", text).start() for ts in (urgent, normal, low)]
    assert positions == sorted(positions)
    assert not re.search(rf"{case_for(vigil, done).ref}\b", text)
    assert reply["response_type"] == "ephemeral"


def test_vigil_case_shows_the_timeline_and_bad_ids_are_explained(vigil: Vigil) -> None:
    ts = vigil.post("user acct_5 harassment report")
    case = case_for(vigil, ts)
    vigil.react(ts, "eyes", user=ANALYST)
    eventually(lambda: current(vigil, case.id).claimed_by)
    vigil.send.command("/vigil", f"case {case.ref}", user=ANALYST)
    text = json.dumps(vigil.slack.wait_for("response_url")[0]["blocks"])
    assert "Timeline" in text and "claimed" in text and "opened (channel)" in text
    vigil.send.command("/vigil", "case CASE-999 <!here>", user=ANALYST)
    error = vigil.slack.wait_for("response_url", count=2)[1]
    assert "No case CASE-999" in error["text"]
    assert (
        vigil.send.command("/vigil", "queue", user=OUTSIDER)
        .json()["text"]
        .startswith("Sorry, only Vigil analysts")
    )


def test_the_message_shortcut_turns_any_message_into_a_case(vigil: Vigil) -> None:
    message = {
        "ts": "1764200000.000100",
        "user": OUTSIDER,
        "text": "seen in #general: acct_555 selling accounts",
    }
    vigil.send.interactive(
        {
            "type": "message_action",
            "callback_id": "create_case",
            "trigger_id": "t.1",
            "user": {"id": ANALYST},
            "channel": {"id": "C0GENERAL"},
            "message": message,
            "response_url": vigil.send.response_url,
        }
    )
    modal = vigil.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "case_create"
    values = {
        "category": {"category": {"selected_option": {"value": "user_report"}}},
        "priority": {"priority": {"selected_option": {"value": "P2"}}},
    }
    vigil.send.view_submission(
        "case_create", values, user=ANALYST, private_metadata=modal["private_metadata"]
    )
    case = case_for(vigil, "1764200000.000100", channel="C0GENERAL")
    assert (case.source, case.category, case.priority) == ("shortcut", "user_report", "P2")
    card_for(vigil, "1764200000.000100")
    # Twice on the same message: told it is already a case.
    vigil.send.interactive(
        {
            "type": "message_action",
            "callback_id": "create_case",
            "trigger_id": "t.2",
            "user": {"id": ANALYST},
            "channel": {"id": "C0GENERAL"},
            "message": message,
            "response_url": vigil.send.response_url,
        }
    )
    assert "already CASE-1" in vigil.slack.wait_for("chat.postEphemeral")[0]["text"]
    # A CX agent cannot.
    vigil.send.interactive(
        {
            "type": "message_action",
            "callback_id": "create_case",
            "trigger_id": "t.3",
            "user": {"id": OUTSIDER},
            "channel": {"id": "C0GENERAL"},
            "message": message,
            "response_url": vigil.send.response_url,
        }
    )
    refusal = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == OUTSIDER)[0]
    assert "only Vigil analysts" in refusal["text"]


def test_app_home_shows_my_cases_the_queue_and_what_is_at_risk(vigil: Vigil) -> None:
    mine = vigil.post("urgent threat: guest acct_7")
    case_for(vigil, mine)
    vigil.react(mine, "eyes", user=ANALYST)
    eventually(lambda: current(vigil, case_for(vigil, mine).id).claimed_by)
    case_for(vigil, vigil.post("user acct_8 spam"))
    vigil.clock.advance(timedelta(minutes=50))  # the P1 is at 83% of its hour
    vigil.send.event({"type": "app_home_opened", "user": ANALYST, "tab": "home"})
    view = json.dumps(vigil.slack.wait_for("views.publish")[0]["view"])
    assert "My cases" in view and "Close to breaching SLA" in view and "Unclaimed queue" in view
    assert view.count("CASE-1") == 2 and view.count("CASE-2") == 1
    vigil.send.event({"type": "app_home_opened", "user": OUTSIDER, "tab": "home"})
    outsider_view = json.dumps(vigil.slack.wait_for("views.publish", count=2)[1]["view"])
    assert (
        "CASE-1" not in outsider_view and "Ask a T&amp;S admin" in outsider_view
    ) or "Ask a T&S admin" in outsider_view


def test_vigil_sla_check_runs_the_same_check_on_demand(vigil: Vigil, monkeypatch, tmp_path) -> None:
    ts = vigil.post("urgent: violent threat in a message from acct_9")
    case_for(vigil, ts)
    card_for(vigil, ts)
    vigil.ctx.jobs.stop()
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    config = tmp_path / "vigil.yaml"
    import yaml

    from tests.harness.world import config_data

    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", vigil.slack.api_url)
    # The CLI runs on the wall clock, long after this case's hour was up.
    result = CliRunner().invoke(__import__("bot.cli", fromlist=["main"]).main, ["sla", "check"])
    assert result.exit_code == 0, result.output
    assert "breached: CASE-1" in result.output
    vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)

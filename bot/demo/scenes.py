"""The demo's week, scene by scene. A scene is a small function of the stage: people act in
Slack (signed requests to the real app) and the clock moves; what Vigil answers is read back
from the fake Slack. A later capability adds its scene to SCENES.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.demo import world
from bot.demo.stage import Stage
from bot.demo.world import ADA, ANA, BEN, LENA, MAYA, OMAR, PAYMENTS, PRIYA, TOMAS, ZENDESK
from bot.fakes.slack import Call


@dataclass
class Play:
    """The stage and what the scenes learn from each other (message ts, case cards)."""

    stage: Stage
    traffic: world.Traffic
    seen: dict[str, str] = field(default_factory=dict)
    at: dict[str, datetime] = field(default_factory=dict)
    # What a scene saw happen that the store does not keep (the runner adds it to the outcomes).
    found: dict[str, Any] = field(default_factory=dict)

    def advance(self, delta: timedelta) -> None:
        self.stage.advance(delta, self.traffic)

    def advance_to(self, at: datetime) -> None:
        self.stage.advance_to(at, self.traffic)

    def case_card(self, ts: str) -> Call:
        """The card Vigil posted in the thread of the escalation at ``ts``."""
        return self.stage.last_call(
            "chat.postMessage", lambda c: c.get("channel") == world.ESCALATIONS and c.get("thread_ts") == ts
        )

    def thread_posts(self, channel: str, ts: str) -> list[Call]:
        """What Vigil posted in the thread of the message at ``ts``."""
        return [
            c
            for c in self.stage.slack.calls_of("chat.postMessage")
            if c.get("channel") == channel and c.get("thread_ts") == ts
        ]

    def with_button(self, channel: str, action_id: str, where: Callable[[Call], bool] | None = None) -> Call:
        """The last message Vigil posted in ``channel`` that carries the button ``action_id``."""
        return self.stage.last_call(
            "chat.postMessage",
            lambda c: (
                c.get("channel") == channel
                and f'"{action_id}"' in json.dumps(c.get("blocks"))
                and (where is None or where(c))
            ),
        )

    def approval_card(self, request: int) -> Call:
        return self.stage.last_call(
            "chat.postMessage",
            lambda c: (
                c.get("channel") == world.APPROVALS
                and not c.get("thread_ts")
                and str(c.get("text", "")).startswith(f"REQ-{request} ")
            ),
        )

    def last_ephemeral(self, who: world.Person) -> Call:
        return self.stage.last_call("chat.postEphemeral", lambda c: c.get("user") == who.id)

    def resolve(self, who: world.Person, ts: str, outcome: str) -> None:
        """React ✅ on the escalation, then pick the outcome Vigil offers privately."""
        self.stage.react(who, ts, "white_check_mark")
        self.stage.click(who, self.last_ephemeral(who), f"case_outcome_{outcome}", channel=world.ESCALATIONS)

    def request(
        self,
        who: world.Person,
        command: str,
        text: str,
        *,
        accounts: str = "",
        reason: str = "spam",
        evidence: str = "",
        note: str = "",
        files: list[dict[str, Any]] | None = None,
        checklist: list[str] | None = None,
        root_cause: str = "",
        summary: str,
    ) -> None:
        """`/suspend` or `/reinstate`: the modal opens prefilled, the person submits it."""
        self.stage.command(who, command, text)
        view = (self.stage.last_call("views.open").get("view")) or {}
        values = {
            "accounts": {"value": {"type": "plain_text_input", "value": accounts or None}},
            "file": {"value": {"type": "file_input", "files": files or []}},
            "reason": {
                "value": {
                    "type": "static_select",
                    "selected_option": {"value": reason, "text": {"type": "plain_text", "text": reason}},
                }
            },
            "evidence": {"value": {"type": "plain_text_input", "value": evidence or None}},
            "note": {"value": {"type": "plain_text_input", "value": note or None}},
        }
        if checklist is not None:
            values["checklist"] = {
                "value": {"type": "checkboxes", "selected_options": [{"value": c} for c in checklist]}
            }
            values["root_cause"] = {"value": {"type": "plain_text_input", "value": root_cause or None}}
        self.stage.submit(who, view, values, summary)


Scene = tuple[str, datetime | None, Callable[[Play], None]]


def backfill(play: Play) -> None:
    """Vigil starts; the platform's pipeline sends four weeks of abuse reports (the baseline)."""
    rows = play.traffic.history(world.START)
    play.stage.send_signals(rows)
    play.stage.transcript.add_note(f"the platform backfilled {len(rows):,} abuse reports (4 weeks)")


def escalations(play: Play) -> None:
    """Monday morning: escalations of every kind arrive in #tns-escalations."""
    s = play.stage
    arrivals: list[tuple[str, world.Person | tuple[str, str], str]] = [
        (
            "ato",
            MAYA,
            "Customer says someone changed my email and password on acct_2210, payouts now "
            "go to a new bank account. Ticket #88123",
        ),
        (
            "listing",
            ZENDESK,
            "Ticket 5512: guest reports host acct_3380 for a fake listing, photos are stock images",
        ),
        ("chargeback", PAYMENTS, "3 chargebacks on acct_5120 in 24h (total $1,240)"),
        (
            "threat",
            TOMAS,
            "URGENT: guest acct_6612 threatened to hurt the host after a refund was refused, host is scared",
        ),
        ("suspend", PRIYA, "Please suspend acct_7781: repeated spam DMs to 40+ hosts this week"),
        ("inquiry", MAYA, "Question from a host: why was the listing of acct_5501 taken down? no rush"),
    ]
    for key, who, text in arrivals:
        play.seen[key] = s.message(who, text)
        play.at[key] = s.now
        play.advance(timedelta(minutes=4))


def claims(play: Play) -> None:
    """Analysts claim with :eyes:; a second claim on a taken case is refused privately."""
    s = play.stage
    s.react(ANA, play.seen["ato"], "eyes")
    s.react(BEN, play.seen["listing"], "eyes")
    s.react(BEN, play.seen["ato"], "eyes")  # too late: Ana has it
    s.react(ANA, play.seen["suspend"], "eyes")
    s.react(BEN, play.seen["chargeback"], "eyes")
    play.advance(timedelta(minutes=5))


def summary(play: Play) -> None:
    """Every new case card carries an offline triage suggestion under the playbook's decision
    (no AI is configured: plainly labelled, never applied). Ana clicks Summarise on the
    takeover case: the extractive summary of the case is posted in its thread."""
    ts = play.seen["ato"]
    card = play.with_button(world.ESCALATIONS, "ai_summarize", lambda c: c.get("thread_ts") == ts)
    before = len(play.thread_posts(world.ESCALATIONS, ts))
    play.stage.click(ANA, card, "ai_summarize")
    play.found["summary_posts_in_thread"] = len(play.thread_posts(world.ESCALATIONS, ts)) - before
    play.advance(timedelta(minutes=2))


def sla(play: Play) -> None:
    """Nobody claimed the P1 threat: the SLA nudge at 75%, then the breach at 100%."""
    s = play.stage
    play.advance_to(play.at["threat"] + timedelta(minutes=46))  # 75% of the P1 hour has gone
    s.react(BEN, play.seen["threat"], "eyes")
    play.advance_to(play.at["threat"] + timedelta(minutes=61))  # past the hour: breached


def resolutions(play: Play) -> None:
    """Cases are resolved with ✅ and an outcome."""
    play.resolve(ANA, play.seen["ato"], "actioned")
    play.resolve(BEN, play.seen["listing"], "no_action")
    play.resolve(BEN, play.seen["chargeback"], "no_action")
    play.resolve(BEN, play.seen["threat"], "actioned")
    play.resolve(ANA, play.seen["suspend"], "actioned")
    play.stage.react(ANA, play.seen["inquiry"], "eyes")
    play.resolve(ANA, play.seen["inquiry"], "not_ts")
    play.advance(timedelta(minutes=10))


def spike(play: Play) -> None:
    """Reports stream in all day; at 13:00 a scam wave hits. At 14:05 the hourly detection posts
    the spike and the new top report reason, each with its chart."""
    play.advance_to(world.START.replace(hour=14, minute=6))


def giveaway(play: Play) -> None:
    """A host report matches the crypto-giveaway rule (live): the card recommends suspending.
    Two guests' tickets forward the scam message those hosts sent them. Ana claims the report,
    Ben the tickets; Ana opens an investigation from the spike's alert."""
    s = play.stage
    play.seen["giveaway"] = s.message(
        PRIYA,
        "Host acct_5830 is running a crypto giveaway: send 1 ETH, get 2 back. Several guests "
        "lost money, acct_5831 is the same person",
    )
    s.react(ANA, play.seen["giveaway"], "eyes")
    for n, text in enumerate(world.forwarded_giveaways(s.seed)):
        play.advance(timedelta(minutes=1))
        play.seen[f"forwarded{n}"] = s.message(ZENDESK, text)
        s.react(BEN, play.seen[f"forwarded{n}"], "eyes")
    alert = s.last_call(
        "chat.postMessage",
        lambda c: (
            c.get("channel") == world.ALERTS
            and "anomaly_investigate" in json.dumps(c.get("blocks"))
            and "Spike" in str(c.get("text"))
            and "=" not in str(c.get("text"))
        ),
    )
    s.click(ANA, alert, "anomaly_investigate")
    play.advance(timedelta(minutes=10))


def pattern(play: Play) -> None:
    """The wave's reports and the forwarded tickets are one scam template (other victims'
    names, other links of one domain, typos). At 14:20 the hourly pattern job groups them and
    posts PAT-1 once. Ana names it, then clicks Draft a rule: a shadow rule is drafted and
    backtested at once on the last 30 days of cases, its figures in the alert's thread."""
    s = play.stage
    play.advance_to(world.START.replace(hour=14, minute=21))
    alert = play.with_button(world.ALERTS, "pattern_not_abuse")
    s.click(ANA, alert, "pattern_name")
    view = s.last_call("views.open").get("view") or {}
    s.submit(
        ANA,
        view,
        {"name": {"name": {"type": "plain_text_input", "value": "ETH doubling giveaway"}}},
        "names it: ETH doubling giveaway",
    )
    before = len(play.thread_posts(world.ALERTS, str((alert.response or {}).get("ts"))))
    s.click(ANA, alert, "pattern_draft_rule")
    play.found["draft_posts_in_thread"] = (
        len(play.thread_posts(world.ALERTS, str((alert.response or {}).get("ts")))) - before
    )
    play.advance(timedelta(minutes=3))


def suspension(play: Play) -> None:
    """Lena asks to suspend both accounts, clicks Approve on her own request (refused: four
    eyes), Omar approves, Vigil executes through the platform's API."""
    s = play.stage
    play.request(
        LENA,
        "/suspend",
        "acct_5830 acct_5831 fraud",
        accounts="acct_5830 acct_5831",
        reason="fraud",
        evidence="INV-1, the 13:00 report spike, case thread",
        note="crypto giveaway scam",
        summary="submits: suspend acct_5830, acct_5831 (fraud), evidence INV-1",
    )
    card = play.approval_card(1)
    s.click(LENA, card, "enforcement_approve")
    s.click(OMAR, card, "enforcement_approve")
    play.resolve(ANA, play.seen["giveaway"], "actioned")
    play.resolve(BEN, play.seen["forwarded0"], "actioned")
    play.resolve(BEN, play.seen["forwarded1"], "actioned")
    play.advance(timedelta(minutes=1))


def calm(play: Play) -> None:
    """The wave is over. Each hourly run judges the spike's series again; once they have been
    back within bounds long enough, Vigil closes each incident: a reply in its thread, and
    the card it posted at 14:05 updated in place (one incident per episode, not a new alert)."""
    play.advance_to(world.START.replace(hour=20, minute=6))


def bulk(play: Play) -> None:
    """Tuesday: the fraud team's export of a 2,000-account spam-bot wave. Ben uploads the CSV;
    over 1,000 accounts needs two approvers; Vigil executes with a progress message."""
    s = play.stage
    wave = world.bulk_wave(s.seed)
    s.platform.add(*wave)
    csv = ("account_id\n" + "\n".join(wave) + "\n").encode()
    upload = s.slack.user_file("spam-wave.csv", csv)
    play.request(
        BEN,
        "/suspend",
        "spam",
        reason="spam",
        files=[upload],
        evidence="fraud team export FR-2291",
        note="spam-bot wave",
        summary=f"submits: suspend {len(wave):,} accounts from spam-wave.csv (spam)",
    )
    card = play.approval_card(2)
    s.click(LENA, card, "enforcement_approve")
    s.click(OMAR, card, "enforcement_approve")
    play.advance(timedelta(minutes=15))


def reinstatement(play: Play) -> None:
    """Thursday: acct_5831's owner proves the account was taken over. Ben asks to reinstate it;
    the request is linked to the suspension it reverses; Lena approves."""
    s = play.stage
    play.seen["appeal"] = s.message(
        TOMAS,
        "Appeal: the owner of acct_5831 says the account was hacked and used for the giveaway; "
        "ID verified, please reinstate",
    )
    s.react(BEN, play.seen["appeal"], "eyes")
    play.request(
        BEN,
        "/reinstate",
        "acct_5831",
        accounts="acct_5831",
        reason="other",
        evidence="ID verified by CX, ticket #88410",
        note="account takeover victim",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="the owner's account was taken over; the giveaway was the attacker's",
        summary="submits: reinstate acct_5831 (other)",
    )
    s.click(LENA, play.approval_card(3), "enforcement_approve")
    play.resolve(BEN, play.seen["appeal"], "actioned")
    play.advance(timedelta(minutes=10))


def appeal(play: Play) -> None:
    """Friday: the owner of acct_5830 contests the suspension on the platform, which posts the
    appeal to Vigil's API; an appeal case opens. Omar approved the suspension, so he may not
    decide the appeal (refused, privately); Ada, who took no part, upholds it."""
    s = play.stage
    answer = s.send_appeal(
        {
            "appeal_id": "APL-3101",
            "account_id": "acct_5830",
            "request_id": "REQ-1",
            "text": "I never ran a giveaway, my guests misunderstood a referral promotion.",
            "links": ["https://platform.example/appeals/APL-3101"],
        }
    )
    play.found["appeal_case"] = answer.get("case")
    message = play.with_button(world.ESCALATIONS, "appeal_uphold")
    before = len(s.slack.calls_of("chat.postEphemeral"))
    s.click(OMAR, message, "appeal_uphold", channel=world.ESCALATIONS)
    play.found["appeal_refusals"] = [
        str(c.get("text"))
        for c in s.slack.calls_of("chat.postEphemeral")[before:]
        if c.get("user") == OMAR.id
    ]
    s.click(ADA, message, "appeal_uphold", channel=world.ESCALATIONS)
    s.submit(
        ADA,
        s.last_call("views.open").get("view") or {},
        {
            "reason": {
                "value": {
                    "type": "plain_text_input",
                    "value": "60 reports of the same scam template from the account within the hour; "
                    "no referral programme exists.",
                }
            }
        },
        "upholds the suspension: 60 reports of one scam template, no referral programme exists",
    )
    play.advance(timedelta(minutes=5))


def coverage(play: Play) -> None:
    """Friday afternoon: Lena asks how the last 30 days' confirmed abuse was first found. The
    top weak point carries a Send to Engineering button: she sends it, and with no Jira
    configured the requirement is posted in #eng-handoff."""
    s = play.stage
    s.command(LENA, "/vigil", "coverage 30d", channel=world.ALERTS)
    report = s.last_call("response_url")
    s.click(LENA, report, "handoff_open", channel=world.ALERTS)
    view = s.last_call("views.open").get("view") or {}
    initial = {
        b.get("block_id"): str((b.get("element") or {}).get("initial_value") or "")
        for b in view.get("blocks") or []
    }

    def text(block: str, value: str) -> dict[str, Any]:
        return {block: {"type": "plain_text_input", "value": value}}

    s.submit(
        LENA,
        view,
        {
            "title": text("title", initial["title"] + "catch spam-bot waves before the fraud team's export"),
            "problem": text("problem", initial["problem"]),
            "evidence": text(
                "evidence", initial["evidence"] + ", REQ-2 (2,000 accounts), fraud team export FR-2291"
            ),
            "impact": text(
                "impact",
                "2,000 spam accounts in one wave, none matched by a rule; found a day late by an export",
            ),
            "mitigation": text(
                "mitigation",
                "a signup-velocity signal: new accounts messaging many hosts within their first hour",
            ),
            "priority": {
                "priority": {
                    "type": "static_select",
                    "selected_option": {"value": "P2", "text": {"type": "plain_text", "text": "P2"}},
                }
            },
        },
        "sends to Engineering (P2): catch spam-bot waves before the fraud team's export",
    )
    play.advance(timedelta(minutes=5))


def digest(play: Play) -> None:
    """The week ends: Monday 09:00 the weekly digest was posted with its charts. Ada, an admin,
    checks the audit chain from Slack."""
    play.stage.command(ADA, "/vigil", "audit", channel=world.DIGEST)


def _day(days: int, hour: int, minute: int = 0) -> datetime:
    return (world.START + timedelta(days=days)).replace(hour=hour, minute=minute)


# (title, when the clock has moved to before it starts (None: where the last one ended), scene)
SCENES: list[Scene] = [
    ("Vigil starts on a fresh database", None, backfill),
    ("escalations arrive", None, escalations),
    ("analysts claim with :eyes:", None, claims),
    ("a case summary, offline; triage suggestions", None, summary),
    ("an SLA nudge, then a breach", None, sla),
    ("cases resolved", None, resolutions),
    ("signals stream in; a planted spike", None, spike),
    ("a playbook rule fires live; an investigation", None, giveaway),
    ("a suspension, four eyes", None, suspension),
    ("a scam template found: PAT-1, named, a rule drafted", None, pattern),
    ("the spike's incidents close", None, calm),
    ("a 2,000-account bulk suspension", _day(1, 10), bulk),
    ("a reinstatement linked to its suspension", _day(3, 11), reinstatement),
    ("an appeal, decided by someone independent", _day(4, 10), appeal),
    ("detection coverage; a requirement sent to Engineering", _day(4, 15), coverage),
    ("the weekly digest", _day(7, 9, 1), digest),
]

"""QA in the weekly review: on Monday the team reads how often re-reviewers agreed with the
week's decisions, per category, which decisions they split on (with links) and what to calibrate
on; the admins alone get, by DM, how each analyst's decisions fared. And a reviewer who disagrees
with a suspension escalates it to an independent appeal review in one click."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import Call
from commands.blocks.decisions import UPHOLD_ACTION
from commands.blocks.reports import as_text, digest_blocks
from store.cases import Case
from store.db import Database
from store.decisions import AppealRow, QaReview
from store.installation import record_first_start
from tests.decisions.conftest import dsa_config_data
from tests.harness.enforcement_steps import approve_and_wait, ask
from tests.harness.report_data import add_case, add_request
from tests.harness.vigil import Vigil, VigilFactory
from tests.harness.world import (
    ADMIN,
    ANALYST,
    ANALYST_2,
    APPROVALS,
    DIGEST,
    ESCALATIONS,
    LEAD,
    LEAD_2,
    OUTSIDER,
)
from workflows.config import VigilConfig, parse_config
from workflows.reports import WEEKLY

W47 = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of the week the digest of MONDAY reports on
PERMALINK = "https://vigil-test.slack.com/archives/C0ESC0001/p{}"


def re_review(
    session: Session,
    kind: str,
    item_id: int,
    ref: str,
    decided: tuple[str, str, str],
    answered: tuple[str, str] | None,
    day: int,
    reviewer: str = LEAD_2,
    note: str | None = None,
) -> None:
    """A sampled decision (category, outcome, decider) and, if given, the re-review's (category,
    outcome), sampled on W47's day ``day`` and answered the day after at noon."""
    category, outcome, decider = decided
    sampled = W47 + timedelta(days=day)
    session.add(
        QaReview(
            kind=kind,
            item_id=item_id,
            item_ref=ref,
            category=category,
            outcome=outcome,
            decider=decider,
            reviewer=reviewer,
            sampled_on=sampled.date(),
            assigned_at=sampled,
            answered_at=sampled + timedelta(days=1, hours=12) if answered else None,
            answer_category=answered[0] if answered else None,
            answer_outcome=answered[1] if answered else None,
            would_action=None,
            note=note,
        )
    )
    session.flush()


def a_week_of_re_reviews(db: Database, config: VigilConfig) -> dict[str, int]:
    """Eight re-reviews answered in W47 (five disagree), one still waiting for LEAD_2, and one
    from the week before that must not count."""
    with db.transaction() as session:
        record_first_start(session, datetime(2026, 10, 1, tzinfo=UTC), "test")
        cases = [
            add_case(session, config, W47 + timedelta(hours=i), category="host_report") for i in range(4)
        ]
        cases += [
            add_case(session, config, W47 + timedelta(hours=9 + i), category="user_report") for i in range(2)
        ]
        for case in cases:
            case.permalink = PERMALINK.format(case.id)
        host, user = cases[:4], cases[4:]
        spam, spam_actions = add_request(session, "suspend", ["acct_1", "acct_2"], W47 + timedelta(hours=3))
        spam.case_ref, spam.card_channel, spam.card_ts = f"CASE-{host[0].id}", APPROVALS, "1764000000.000900"
        fraud, [fraud_action] = add_request(session, "suspend", ["acct_3"], W47 + timedelta(hours=4))
        fraud.reason_code = "fraud"
        session.flush()

        def case_review(
            case: Case, decided: tuple[str, str, str], answered: tuple[str, str] | None, day: int, **kw: str
        ) -> None:
            re_review(session, "case", case.id, f"CASE-{case.id}", decided, answered, day, **kw)

        def action_review(
            action_id: int,
            request_id: int,
            account: str,
            decided: tuple[str, str, str],
            answered: tuple[str, str],
            day: int,
            **kw: str,
        ) -> None:
            re_review(
                session, "action", action_id, f"REQ-{request_id}:{account}", decided, answered, day, **kw
            )

        case_review(host[0], ("host_report", "actioned", ANALYST), ("host_report", "actioned"), 0)
        case_review(
            host[1],
            ("host_report", "actioned", ANALYST),
            ("user_report", "actioned"),
            1,
            note="the guest wrote it, not the host",
        )
        case_review(host[2], ("host_report", "no_action", ANALYST_2), ("user_report", "actioned"), 2)
        case_review(user[0], ("user_report", "actioned", ANALYST_2), ("host_report", "actioned"), 3)
        case_review(user[1], ("user_report", "actioned", ANALYST_2), ("user_report", "actioned"), 3)
        action_review(
            spam_actions[0].id,
            spam.id,
            "acct_1",
            ("spam", "actioned", LEAD),
            ("spam", "no_action"),
            4,
            reviewer=ANALYST_2,
            note="<!channel> only one link",
        )
        action_review(
            spam_actions[1].id,
            spam.id,
            "acct_2",
            ("spam", "actioned", LEAD),
            ("spam", "actioned"),
            4,
            reviewer=ANALYST_2,
        )
        action_review(
            fraud_action.id,
            fraud.id,
            "acct_3",
            ("fraud", "actioned", LEAD),
            ("spam", "actioned"),
            4,
            reviewer=ANALYST_2,
        )
        case_review(host[3], ("host_report", "actioned", ANALYST), None, 5)  # waits for LEAD_2
        earlier = add_case(session, config, W47 - timedelta(days=6), category="host_report")
        re_review(
            session,
            "case",
            earlier.id,
            f"CASE-{earlier.id}",
            ("host_report", "actioned", ANALYST),
            ("user_report", "no_action"),
            -7,
        )  # sampled and answered in W46
    return {
        "host0": host[0].id,
        "host1": host[1].id,
        "host2": host[2].id,
        "user0": user[0].id,
        "spam": spam.id,
        "fraud": fraud.id,
    }


def digest_post(vigil: Vigil) -> Call:
    return vigil.slack.wait_for(
        "chat.postMessage",
        where=lambda c: c.get("channel") == DIGEST and "Weekly T&S digest" in str(c.get("text")),
    )[0]


def test_the_weekly_digest_shows_agreement_per_category_the_disagreements_and_what_to_calibrate(
    vigil: Vigil,
) -> None:
    ids = a_week_of_re_reviews(vigil.db, vigil.ctx.config)
    assert [r.outcome for r in vigil.ctx.reports.run_due((WEEKLY,))] == ["claimed"]
    post = digest_post(vigil)
    shown = as_text(post["blocks"])
    raw = json.dumps(post["blocks"], ensure_ascii=False)

    assert (
        "QA re-reviews · 9 sampled, 8 answered · same outcome 6/8 (75%) · same category 4/8 (50%)\n"
        "• Host report: 3 re-reviewed · same outcome 2/3 (67%) · same category 1/3 (33%)\n"
        "• spam: 2 re-reviewed · same outcome 1/2 (50%) · same category 2/2 (100%)\n"
        "• User report: 2 re-reviewed · same outcome 2/2 (100%) · same category 1/2 (50%)\n"
        "• fraud: 1 re-reviewed · same outcome 1/1 (100%) · same category 0/1 (0%)\n"
    ) in shown

    # Each disagreement says what each side decided and links to where the decision was taken.
    host1, host2, user0 = (PERMALINK.format(ids[k]) for k in ("host1", "host2", "user0"))
    assert (
        f"<{host1}|CASE-{ids['host1']}> · decided actioned (Host report) · re-review actioned (User report)"
        " · “the guest wrote it, not the host”" in raw
    )
    assert (
        f"<{host2}|CASE-{ids['host2']}> · decided no action (Host report) · re-review actioned (User report)"
        in raw
    )
    assert f"<{user0}|CASE-{ids['user0']}> · decided actioned (User report)" in raw
    host0 = PERMALINK.format(ids["host0"])
    assert (
        f"REQ-{ids['spam']}:acct_1 (from <{host0}|CASE-{ids['host0']}>) · card in <#{APPROVALS}> · "
        "decided actioned (spam) · re-review no action (spam) · “&lt;!channel&gt; only one link”"
    ) in raw
    assert f"REQ-{ids['fraud']}:acct_3 · decided actioned (fraud) · re-review actioned (spam)" in raw
    assert "QA disagreements (5)" in shown and f"REQ-{ids['spam']}:acct_2" not in raw  # it agreed

    # The calibration list: most disagreements first, then the larger share of them.
    assert (
        "Calibration topics (where the two sides split most)\n"
        "1. Host report vs User report: 3 of 5 re-reviews disagreed\n"
        "2. spam, actioned vs no action: 1 of 2 re-reviews disagreed\n"
        "3. fraud vs spam: 1 of 3 re-reviews disagreed\n"
        "4. Host report, actioned vs no action: 1 of 3 re-reviews disagreed\n"
    ) in shown

    # Nobody is named in the channel: who decided what is for the admins.
    for person in (ANALYST, ANALYST_2, LEAD, LEAD_2):
        assert person not in raw
    assert "per analyst" not in raw.lower()

    # The admins (and only they) get the per-analyst table, each by DM.
    dm = vigil.slack.wait_for(
        "chat.postMessage",
        where=lambda c: c.get("channel") == ADMIN and "QA per analyst" in str(c.get("text")),
    )[0]
    table = as_text(dm["blocks"])
    assert (
        f"• @{ANALYST_2}: 3 re-reviewed · same outcome 2/3 (67%) · same category 1/3 (33%)\n"
        f"• @{LEAD}: 3 re-reviewed · same outcome 2/3 (67%) · same category 2/3 (67%)\n"
        f"• @{ANALYST}: 2 re-reviewed · same outcome 2/2 (100%) · same category 1/2 (50%)\n"
    ) in table
    vigil.run_jobs()
    per_analyst = [
        c for c in vigil.slack.calls_of("chat.postMessage") if "QA per analyst" in str(c.get("text"))
    ]
    assert [c["channel"] for c in per_analyst] == [ADMIN]  # once, and to nobody else

    # The terminal preview carries the same QA section (and no per-analyst table).
    preview = as_text(
        digest_blocks(vigil.ctx.reports.digest(vigil.ctx.reports.period_of(WEEKLY, "2026-W47")))[1]
    )
    assert "1. Host report vs User report: 3 of 5 re-reviews disagreed" in preview
    assert ANALYST not in preview


def test_a_week_without_re_reviews_says_so_in_one_line(vigil: Vigil) -> None:
    a_week_of_re_reviews(vigil.db, vigil.ctx.config)
    reports = vigil.ctx.reports
    shown = as_text(digest_blocks(reports.digest(reports.period_of(WEEKLY, "2026-W45")))[1])
    assert "QA re-reviews · No re-reviews this week." in shown
    assert "Calibration" not in shown and "QA disagreements" not in shown


def test_vigil_qa_shows_admins_each_analyst_and_everyone_else_only_the_categories(vigil: Vigil) -> None:
    a_week_of_re_reviews(vigil.db, vigil.ctx.config)

    vigil.send.command("/vigil", "qa", user=ADMIN)
    admin = vigil.slack.wait_for("response_url")[0]
    assert admin["response_type"] == "ephemeral"
    shown = as_text(admin["blocks"])
    assert "8 re-reviews answered" in shown
    assert "• Host report: 3 re-reviewed · same outcome 2/3 (67%) · same category 1/3 (33%)" in shown
    assert f"• @{ANALYST}: 2 re-reviewed · same outcome 2/2 (100%) · same category 1/2 (50%)" in shown
    assert "Per analyst" in shown and "No re-review waits for you" in shown

    vigil.send.command("/vigil", "qa", user=LEAD_2)  # an approver with one re-review waiting
    lead = as_text(vigil.slack.wait_for("response_url", count=2)[1]["blocks"])
    assert "• Host report: 3 re-reviewed" in lead and "1 re-review(s) wait for you" in lead
    assert "Per analyst" not in lead and ANALYST not in lead and LEAD not in lead

    vigil.send.command("/vigil", "qa", user=ANALYST)
    analyst = as_text(vigil.slack.wait_for("response_url", count=3)[2]["blocks"])
    assert "• fraud: 1 re-reviewed" in analyst and "Per analyst" not in analyst and ANALYST_2 not in analyst

    outsider = vigil.send.command("/vigil", "qa", user=OUTSIDER)
    assert "only Vigil analysts" in outsider.json()["text"]

    vigil.send.command("/vigil", "help", user=ANALYST)
    assert "/vigil qa" in json.dumps(vigil.slack.wait_for("response_url", count=4)[3]["blocks"])


def test_the_cli_prints_agreement_per_decider(
    vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    a_week_of_re_reviews(vigil.db, vigil.ctx.config)
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(dsa_config_data()), encoding="utf-8")
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    runner = CliRunner()
    result = runner.invoke(
        main, ["qa", "agreement", "--since", "2026-11-16", "--until", "2026-11-23", "--by", "decider"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "# QA agreement 2026-11-16 (inclusive) to 2026-11-23 (exclusive), UTC",
        "decider,answered,agreed,agreement",
        f"{ANALYST},2,2,1.00",
        f"{ANALYST_2},3,2,0.67",
        f"{LEAD},3,2,0.67",
    ]
    assert (
        "trusted like `vigil enforcement request`"
        in runner.invoke(main, ["qa", "agreement", "--help"]).output
    )
    wrong = runner.invoke(
        main, ["qa", "agreement", "--since", "2026-11-16", "--until", "2026-11-23", "--by", "me"]
    )
    assert wrong.exit_code == 2 and "decider" in wrong.output


def test_a_disagreement_on_a_suspension_becomes_one_independent_appeal_review_in_one_click(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    data = dsa_config_data()
    data["qa"] = {"rate": 1.0}
    desk = make_vigil(fake_enforcement, config=parse_config(data))
    fake_enforcement.add("acct_1")
    ask(desk, accounts="acct_1", reason="spam", evidence="links in every message")  # asked by ANALYST
    approve_and_wait(desk, 1, user=LEAD)
    desk.enforce()
    day: date = desk.clock.now().astimezone(desk.ctx.config.tz).date()
    desk.clock.advance(timedelta(days=1))
    assert desk.ctx.qa is not None and desk.ctx.appeals is not None
    assert desk.ctx.qa.sample_day(day).sampled == 1
    with desk.db.read() as session:
        review = session.scalars(select(QaReview)).one()
    reviewer = review.reviewer or ""
    assert reviewer not in ("", ANALYST, LEAD)

    from tests.decisions.test_qa import answer

    answer(desk, review, "no_action", "spam")
    reveal = desk.slack.wait_for("chat.postMessage", where=lambda c: "You disagreed" in str(c.get("text")))[0]
    assert "qa_escalate" in json.dumps(reveal["blocks"])

    # Someone else presses the button (a forwarded payload): refused, only to them.
    desk.send.block_action(
        "qa_escalate", str(review.id), user=LEAD_2 if reviewer != LEAD_2 else ANALYST_2, channel="D0OTHER01"
    )
    refusal = desk.slack.wait_for(
        "chat.postEphemeral", where=lambda c: "given to someone else" in str(c.get("text"))
    )
    assert refusal[0]["channel"] == "D0OTHER01"

    # The reviewer double-clicks: both clicks land at once, one review case is opened.
    clicks = [
        threading.Thread(
            target=lambda: desk.send.block_action(
                "qa_escalate", str(review.id), user=reviewer, channel="D0REV0001"
            )
        )
        for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    escalated = desk.slack.wait_for(
        "chat.postMessage", where=lambda c: "Escalated: CASE-" in str(c.get("text"))
    )[0]
    desk.run_jobs()
    with desk.db.read() as session:
        appeal = session.scalars(select(AppealRow).where(AppealRow.appeal_id == f"qa-{review.id}")).one()
        appeal_cases = session.scalar(select(func.count()).select_from(Case).where(Case.category == "appeal"))
    assert appeal.internal and appeal_cases == 1 and f"CASE-{appeal.case_id}" in escalated["text"]
    assert (
        len([c for c in desk.slack.calls_of("chat.postMessage") if "Escalated: CASE-" in str(c.get("text"))])
        == 1
    )
    desk.send.block_action("qa_escalate", str(review.id), user=reviewer, channel="D0REV0001")
    desk.slack.wait_for(
        "chat.postEphemeral",
        where=lambda c: f"Already escalated: CASE-{appeal.case_id}" in str(c.get("text")),
    )

    # The review is posted like an appeal; neither who asked for the suspension nor who approved it
    # may decide it.
    posted = desk.slack.wait_for(
        "chat.postMessage",
        where=lambda c: c.get("channel") == ESCALATIONS and UPHOLD_ACTION in json.dumps(c.get("blocks")),
    )[0]
    for person, words in ((LEAD, "You approved REQ-1"), (ANALYST, "You asked for REQ-1")):
        desk.send.block_action(
            UPHOLD_ACTION,
            f"qa-{review.id}",
            user=person,
            channel=ESCALATIONS,
            message_ts=posted.get("ts") or "1764000000.000001",
        )
        desk.slack.wait_for("chat.postEphemeral", where=lambda c, w=words: w in str(c.get("text")))
    decided = desk.ctx.appeals.uphold(f"qa-{review.id}", ADMIN, "the links were spam after all")
    assert decided.outcome == "upheld"
    desk.run_jobs()
    assert fake_enforcement.appeal_outcomes == []  # raised inside the team: the platform is not told

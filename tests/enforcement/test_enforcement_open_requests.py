"""One open request per account and action: a second one is refused naming the first, and a
conflicting request (a reinstatement while the suspension is open) is shown to approvers.
An investigation shows what is still open, so nobody asks twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from bot.cli import main
from bot.fakes.slack import FakeSlack
from store.enforcement import EnforcementAction, EnforcementRequest
from tests.harness.enforcement_steps import (
    actions,
    approve_and_wait,
    ask,
    card,
    card_updates,
    cli_request,
    operator_shell,
    requests_made,
)
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, ANALYST_2, APPROVALS, LEAD, MONDAY
from workflows import enforcement as workflow
from workflows.enforcement import OpenRequestConflict, check_draft, service


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def cli_env(vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    operator_shell(vigil, tmp_path, monkeypatch)


def test_a_second_suspension_of_an_account_is_refused_naming_and_linking_the_open_one(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1")
    card(vigil)
    body = ask(vigil, accounts="acct_1 acct_9", user=ANALYST_2).json()
    assert body["response_action"] == "errors"
    error = body["errors"]["accounts"]
    assert error.startswith(
        "acct_1 already has an open suspend request: REQ-1 (https://vigil-test.slack.com/"
    )
    assert "waiting for approval" in error
    assert requests_made(vigil) == 1

    # Rejected, the account is free to be asked for again.
    vigil.ctx.enforcer.reject(1, LEAD, "not enough evidence")
    assert ask(vigil, accounts="acct_1 acct_9", user=ANALYST_2).text == ""
    card(vigil, 2)
    assert requests_made(vigil) == 2


def test_an_approved_suspension_still_executing_blocks_another(enforcing: Vigil) -> None:
    ask(enforcing, accounts="acct_1")
    approve_and_wait(enforcing)  # approved, not executed yet (the worker runs when told)
    error = ask(enforcing, accounts="acct_1", user=ANALYST_2).json()["errors"]["accounts"]
    assert "REQ-1" in error and "approved, executing" in error


def test_a_reinstatement_while_the_suspension_is_open_shows_on_both_cards(vigil: Vigil) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    card(vigil)
    ask(
        vigil,
        action="reinstate",
        accounts="acct_1",
        reason="other",
        checklist=["appeal_reviewed", "evidence_rechecked"],
        root_cause="the appeal shows a travelling host",
        user=ANALYST_2,
    )
    shown = dump(card(vigil, 2)["blocks"])
    assert "Conflicting open request(s) on these accounts" in shown
    assert "REQ-1 (suspend, waiting for approval) is still open for `acct_1`" in shown
    # The suspension's card, already in front of approvers, now says so too.
    card_updates(vigil, 1, "REQ-2 (reinstate, waiting for approval) is still open for `acct_1`")

    # Once REQ-1 is decided the warning leaves REQ-2's card by itself.
    reason = {"reason": {"value": {"type": "plain_text_input", "value": "the appeal is upheld"}}}
    metadata = json.dumps({"request_id": 1, "channel": APPROVALS})
    vigil.send.view_submission("enforcement_reject", reason, user=LEAD, private_metadata=metadata)
    later = card_updates(vigil, 2, "Needs 1 approval")[-1]
    assert "Conflicting" not in dump(later["blocks"])


def test_a_bulk_request_with_three_accounts_already_open_is_refused_naming_them(
    vigil: Vigil, fake_slack: FakeSlack
) -> None:
    ask(vigil, accounts="acct_5 acct_77")
    ask(vigil, accounts="acct_1999", user=ANALYST_2)
    card(vigil, 2)
    ids = "account_id\n" + "\n".join(f"acct_{n}" for n in range(2_000)) + "\n"
    upload = fake_slack.user_file("wave.csv", ids.encode())
    body = ask(vigil, files=[upload]).json()
    error = body["errors"]["file"]  # the accounts came from the file: the error is on the file
    assert error.startswith(
        "3 accounts already have an open suspend request: acct_5 (REQ-1), acct_77 (REQ-1), acct_1999 (REQ-2)."
    )
    assert "Nothing was created; remove those accounts and submit again." in error
    assert requests_made(vigil) == 2


def test_two_requests_racing_past_the_check_cannot_both_be_written(
    vigil: Vigil, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = vigil.ctx.config.enforcement
    first = check_draft(workflow.Draft(action="suspend", requester=ANALYST, accounts_text="acct_1",
                                       reason_code="spam"), config)  # fmt: skip
    second = check_draft(workflow.Draft(action="suspend", requester=ANALYST_2, accounts_text="acct_1",
                                        reason_code="spam"), config)  # fmt: skip
    vigil.ctx.enforcer.create(first)
    # The second transaction read the ledger before the first committed: its check saw nothing.
    real = service.open_actions_on
    calls: list[int] = []

    def blind(session: Any, accounts: list[str], action: str | None = None) -> list[Any]:
        calls.append(1)
        return [] if len(calls) == 1 else real(session, accounts, action)

    monkeypatch.setattr(service, "open_actions_on", blind)
    with pytest.raises(OpenRequestConflict, match="REQ-1"):
        vigil.ctx.enforcer.create(second)  # the database's unique index refuses it
    assert requests_made(vigil) == 1


def test_the_cli_refuses_an_account_already_asked_for_in_one_line(vigil: Vigil, cli_env: None) -> None:
    ask(vigil, accounts="acct_1")
    again = cli_request(ANALYST_2, accounts="acct_1 acct_3")
    assert again.exit_code == 1
    assert again.output.strip().splitlines()[-1] == (
        "enforcement: request not created: acct_1 already has an open suspend request: REQ-1, "
        "waiting for approval. Nothing was created; follow that request instead of asking again."
    )


def test_a_failed_action_retried_after_the_account_was_asked_for_again_is_left_to_the_new_request(
    vigil: Vigil,
) -> None:
    ask(vigil, accounts="acct_1 acct_2")
    with vigil.db.transaction() as session:  # REQ-1 ran and failed (retryable) on both
        session.execute(update(EnforcementAction).values(status="failed_retryable"))
        session.execute(update(EnforcementRequest).values(status="completed"))
    ask(vigil, accounts="acct_1", user=ANALYST_2)  # acct_1 is asked for again: REQ-2
    card(vigil, 2)
    assert vigil.ctx.enforcer.retry_failed(1, LEAD) == {1: 1}  # only acct_2 goes again
    assert actions(vigil, 1)["acct_1"].status == "failed_retryable"
    assert actions(vigil, 1)["acct_2"].status == "pending"


def test_upgrading_a_database_that_already_holds_two_open_requests_on_an_account_says_which(
    fresh_db_url: str,
) -> None:
    from store import migrate
    from store.db import Database

    migrate.upgrade(fresh_db_url, "0006_reports")  # before the rule
    database = Database(fresh_db_url)
    with database.transaction() as session:
        for n in (1, 2):
            session.add(
                EnforcementRequest(
                    id=n, action="suspend", status="pending_approval", requester=ANALYST, reason_code="spam",
                    account_count=1, approvals_needed=1, source="slack", created_at=MONDAY, updated_at=MONDAY,
                )
            )  # fmt: skip
            session.flush()
            session.add(
                EnforcementAction(
                    request_id=n, account_id="acct_1", action="suspend", status="awaiting_approval",
                    idempotency_key=f"vigil:REQ-{n}:acct_1:suspend", created_at=MONDAY, updated_at=MONDAY,
                )
            )  # fmt: skip
    with pytest.raises(Exception, match=r"acct_1 \(suspend x2\).*Reject the extra requests"):
        migrate.upgrade(fresh_db_url)
    with database.transaction() as session:  # an approver rejected REQ-2
        session.execute(
            update(EnforcementAction).where(EnforcementAction.request_id == 2).values(status="cancelled")
        )
    migrate.upgrade(fresh_db_url)
    assert database.schema_status().up_to_date
    database.dispose()


def test_an_investigation_shows_a_request_still_waiting(vigil: Vigil, cli_env: None) -> None:
    ask(vigil, accounts="acct_host_7")
    card(vigil)
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST_2, channel=APPROVALS)
    dossier = vigil.slack.wait_for(
        "chat.postMessage", where=lambda c: "investigation_outcome" in dump(c.get("blocks"))
    )[0]
    shown = dump(dossier["blocks"])
    assert f":hourglass: *REQ-1* suspend · *waiting for approval* · asked by <@{ANALYST}>" in shown

    printed = CliRunner().invoke(main, ["investigate", "acct_host_7"])
    assert printed.exit_code == 0, printed.output
    assert "suspend waiting for approval REQ-1" in printed.output and "OPEN " in printed.output

    approve_and_wait(vigil)  # manual mode: approved, waiting for Engineering
    printed = CliRunner().invoke(main, ["investigate", "acct_host_7"])
    assert "suspend approved, awaiting manual execution REQ-1" in printed.output

"""An analyst investigates an account from Slack: profile, history, velocity against everyone
else, the accounts it shares a card or a device with; then records what they found, and
goes to a suspension request with the evidence in hand."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import select

from bot.cli import main
from bot.fakes.enforcement import FakeEnforcement
from bot.gateways.platform import HttpPlatformGateway
from store.audit import AuditEntry
from store.investigations import Investigation, InvestigationEvent
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ALERTS, ANALYST, ANALYST_2, ESCALATIONS, MONDAY, OUTSIDER, config_data
from workflows.config import Settings
from workflows.investigations import EnforcementRecord, RuleMatch

INVESTIGATIONS = "C0INV0001"


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def settings(settings: Settings, fake_enforcement: FakeEnforcement) -> Settings:
    return settings.model_copy(
        update={
            "vigil_enforcement_url": fake_enforcement.url,
            "vigil_enforcement_token": SecretStr(fake_enforcement.token),
        }
    )


def history(vigil: Vigil) -> None:
    rows: list[dict[str, Any]] = []
    for n in range(40):
        rows.append(
            {
                "type": "send_velocity",
                "account_id": "acct_host_7",
                "occurred_at": (MONDAY - timedelta(minutes=5 * n)).isoformat(),
                "value": 25,
                "attributes": {"country": "NG", "device_id": "dev_shared"},
            }
        )
    rows += [
        {
            "type": "payment_decline",
            "account_id": "acct_host_7",
            "occurred_at": (MONDAY - timedelta(hours=3)).isoformat(),
            "attributes": {"payment_fingerprint": "fp_stolen_1"},
        },
        {
            "type": "login",
            "account_id": "acct_host_7",
            "occurred_at": (MONDAY - timedelta(days=30)).isoformat(),
        },
        {
            "type": "login",
            "account_id": "acct_alt_2",
            "occurred_at": (MONDAY - timedelta(days=2)).isoformat(),
            "attributes": {"payment_fingerprint": "fp_stolen_1", "device_id": "dev_shared"},
        },
        {
            "type": "report",
            "account_id": "acct_host_7",
            "occurred_at": (MONDAY - timedelta(hours=1)).isoformat(),
            "attributes": {"reporter": "guest_12", "reason": "scam <!channel>", "text": "asked for a wire"},
        },
    ]
    rows += [
        {
            "type": "send_velocity",
            "account_id": f"acct_norm_{n}",
            "occurred_at": MONDAY.isoformat(),
            "value": 1,
        }
        for n in range(20)
    ]
    vigil.ctx.signals.ingest(rows)


def investigation_message(vigil: Vigil, count: int = 1) -> Any:
    return vigil.slack.wait_for(
        "chat.postMessage",
        where=lambda c: "investigation_outcome" in dump(c.get("blocks")),
        count=count,
    )[count - 1]


def investigation(vigil: Vigil, inv_id: int = 1) -> Investigation:
    with vigil.db.read() as session:
        found = session.get(Investigation, inv_id)
        assert found is not None
        return found


def test_investigate_posts_the_whole_picture(vigil: Vigil, fake_enforcement: FakeEnforcement) -> None:
    fake_enforcement.add("acct_host_7", state="active", created_at="2026-11-01T00:00:00Z", country="NG")
    history(vigil)
    case_ts = vigil.post("host acct_host_7 is scamming guests")
    eventually(lambda: vigil.ctx.cases.by_source(ESCALATIONS, case_ts))
    vigil.run_jobs()
    response = vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST, channel=INVESTIGATIONS)
    assert response.status_code == 200
    reply = vigil.slack.wait_for("response_url")[0]
    assert "Opened INV-1" in reply["text"]
    message = investigation_message(vigil)
    assert message["channel"] == INVESTIGATIONS
    blocks = dump(message["blocks"])
    for expected in (
        "INV-1 · acct_host_7",
        "*Profile*",
        "created_at: 2026-11-01T00:00:00Z",
        "account age 22.42 days from the profile",
        "`send_velocity`: 1h *12*",
        "p99 12",
        "report: scam &lt;!channel&gt; by guest_12",  # client text, escaped
        "CASE-1",
        "None recorded.",  # no enforcement history yet
        "`acct_alt_2` shares device_id=dev_shared, payment_fingerprint=fp_stolen_1",
        "investigation_suspend",
    ):
        assert expected in blocks, expected
    assert "<!channel>" not in blocks
    assert fake_enforcement.calls_for("acct_host_7", "get")
    eventually(lambda: investigation(vigil).message_ts)
    with vigil.db.read() as session:
        assert "investigation.opened" in set(session.scalars(select(AuditEntry.action)))

    # Asking again shows the open one privately instead of opening a second.
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST_2, channel=INVESTIGATIONS)
    again = vigil.slack.wait_for("response_url", count=2)[1]
    assert "INV-1 is already open" in again["text"] and again["response_type"] == "ephemeral"
    with vigil.db.read() as session:
        assert len(session.scalars(select(Investigation)).all()) == 1


def test_the_analyst_records_an_outcome_in_a_modal(vigil: Vigil) -> None:
    history(vigil)
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST, channel=INVESTIGATIONS)
    message = investigation_message(vigil)
    eventually(lambda: investigation(vigil).message_ts)
    vigil.send.block_action("investigation_outcome", "1", user=ANALYST, channel=INVESTIGATIONS)
    modal = vigil.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "investigation_outcome"
    missing = vigil.send.view_submission(
        "investigation_outcome",
        {"outcome": {"outcome": {"selected_option": None}}},
        user=ANALYST,
        private_metadata=modal["private_metadata"],
    )
    assert missing.json()["errors"] == {"outcome": "Pick an outcome."}
    values = {
        "outcome": {"outcome": {"selected_option": {"value": "abuse_confirmed"}}},
        "findings": {"findings": {"value": "Same device as acct_alt_2; stolen card <!here>"}},
    }
    vigil.send.view_submission(
        "investigation_outcome", values, user=ANALYST, private_metadata=modal["private_metadata"]
    )
    eventually(lambda: investigation(vigil).status == "closed")
    closed = investigation(vigil)
    assert (closed.outcome, closed.closed_by, closed.closed_at) == ("abuse_confirmed", ANALYST, MONDAY)
    assert closed.open_key is None
    thread = vigil.slack.wait_for(
        "chat.postMessage", where=lambda c: c.get("thread_ts") == message.response["ts"]
    )
    assert "*Abuse confirmed*" in thread[0]["text"] and "&lt;!here&gt;" in thread[0]["text"]
    update = vigil.slack.wait_for("chat.update")[0]
    assert "Closed" in dump(update["blocks"]) and "investigation_outcome" not in dump(update["blocks"])
    with vigil.db.read() as session:
        kinds = list(session.scalars(select(InvestigationEvent.kind).order_by(InvestigationEvent.id)))
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "investigation.outcome")).one()
    assert kinds[0] == "opened" and "outcome" in kinds
    assert audit.data["outcome"] == "abuse_confirmed" and audit.subject_id == "INV-1"
    # A second verdict from a stale message changes nothing.
    vigil.send.block_action("investigation_outcome", "1", user=ANALYST_2, channel=INVESTIGATIONS)
    late = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST_2)[0]
    assert "already closed" in late["text"]
    # The account can be investigated again, and the timeline remembers the first verdict.
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST_2, channel=INVESTIGATIONS)
    second = investigation_message(vigil, count=2)
    assert "INV-2" in dump(second["blocks"]) and "INV-1 closed: Abuse confirmed" in dump(second["blocks"])


def test_request_suspension_opens_the_suspend_modal_with_the_evidence(vigil: Vigil) -> None:
    history(vigil)
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST, channel=INVESTIGATIONS)
    investigation_message(vigil)
    vigil.send.block_action("investigation_suspend", "1", user=ANALYST, channel=INVESTIGATIONS)
    modal = vigil.slack.wait_for("views.open")[0]["view"]
    assert modal["callback_id"] == "enforcement_request"
    fields = {block["block_id"]: block for block in modal["blocks"]}
    assert fields["accounts"]["element"]["initial_value"] == "acct_host_7"
    assert fields["evidence"]["element"]["initial_value"] == "INV-1 (Vigil investigation of acct_host_7)"
    # When Slack will not open the modal (the trigger expired), the analyst is told what to paste.
    vigil.slack.fail("views.open", error="expired_trigger_id")
    vigil.send.block_action("investigation_suspend", "1", user=ANALYST, channel=INVESTIGATIONS)
    hint = vigil.slack.wait_for("chat.postEphemeral", where=lambda c: c["user"] == ANALYST)[0]
    assert "`/suspend acct_host_7`" in hint["text"] and "INV-1" in hint["text"]
    with vigil.db.read() as session:
        kinds = list(session.scalars(select(InvestigationEvent.kind)))
    assert kinds.count("suspension_requested") == 2


def test_an_unreachable_or_unknown_profile_is_said_not_crashed(
    vigil: Vigil, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.stop()  # the platform is down
    vigil.send.command("/vigil", "investigate acct_ghost_1", user=ANALYST, channel=INVESTIGATIONS)
    assert "enforcement API is unreachable" in dump(investigation_message(vigil)["blocks"])
    url = vigil.ctx.settings.vigil_enforcement_url
    assert url is not None
    vigil.ctx.investigations.profiles = HttpPlatformGateway(url, "wrong", profile_timeout=1)
    assert vigil.ctx.investigations.dossier("acct_x_1").profile.status == "unreachable"


def test_unknown_accounts_bad_ids_and_outsiders(vigil: Vigil, fake_enforcement: FakeEnforcement) -> None:
    vigil.send.command("/vigil", "investigate acct_nobody_9", user=ANALYST, channel=INVESTIGATIONS)
    assert "Unknown to the platform" in dump(investigation_message(vigil)["blocks"])
    vigil.send.command("/vigil", "investigate", user=ANALYST)
    assert "Usage" in vigil.slack.wait_for("response_url", count=2)[1]["text"]
    vigil.send.command("/vigil", "investigate 'two words'", user=ANALYST)
    assert "is not an account id" in vigil.slack.wait_for("response_url", count=3)[2]["text"]
    refused = vigil.send.command("/vigil", "investigate acct_1", user=OUTSIDER)
    assert "only Vigil analysts" in refused.json()["text"]


def test_vigil_posts_in_a_dm_when_it_is_not_in_the_channel(vigil: Vigil) -> None:
    vigil.slack.fail("chat.postMessage", error="not_in_channel", times=1)
    vigil.send.command("/vigil", "investigate acct_dm_1", user=ANALYST, channel="C0NOTJOIN")
    refused, message = (investigation_message(vigil, n) for n in (1, 2))
    assert refused["channel"] == "C0NOTJOIN" and message["channel"] == ANALYST
    eventually(lambda: investigation(vigil).channel == ANALYST)


def test_ports_from_other_capabilities_fill_the_dossier(vigil: Vigil) -> None:
    class History:
        def for_account(self, account_id: str) -> list[EnforcementRecord]:
            return [EnforcementRecord(MONDAY - timedelta(days=40), "suspend", "done", "REQ-4", ANALYST_2)]

    class Rules:
        def for_account(self, account_id: str) -> list[RuleMatch]:
            return [RuleMatch(MONDAY - timedelta(hours=2), "velocity-burst", "1h sends over p99")]

    vigil.ctx.investigations.history = History()
    vigil.ctx.investigations.rules = Rules()
    vigil.send.command("/vigil", "investigate acct_host_7", user=ANALYST, channel=INVESTIGATIONS)
    blocks = dump(investigation_message(vigil)["blocks"])
    assert "suspend · done · REQ-4" in blocks and "`velocity-burst`: 1h sends over p99" in blocks


def test_the_anomaly_button_opens_an_investigation_of_the_top_account(vigil: Vigil) -> None:
    from tests.harness.signal_data import history as weeks_of_reports
    from tests.harness.signal_data import load, scam_wave

    load(vigil, weeks_of_reports(logins=False) + scam_wave(MONDAY - timedelta(hours=1)))
    spike = next(a for a in vigil.ctx.anomalies.detect().found if a.kind == "spike" and not a.dimension)
    # Alerts are posted by the job worker, several at a time: find this anomaly's own.
    alert_ts = eventually(lambda: vigil.ctx.anomalies.get(spike.id).message_ts)
    vigil.send.block_action("anomaly_investigate", str(spike.id), user=ANALYST, channel=ALERTS)
    message = investigation_message(vigil)
    assert message["channel"] == ALERTS and message["thread_ts"] == alert_ts
    assert "acct_scammer_1" in dump(message["blocks"])
    inv = eventually(lambda: investigation(vigil))
    assert inv.anomaly_id == spike.id
    assert eventually(lambda: vigil.ctx.anomalies.get(spike.id).feedback) == "investigated"


def test_app_home_lists_my_open_investigations(vigil: Vigil) -> None:
    vigil.send.command("/vigil", "investigate acct_home_1", user=ANALYST, channel=INVESTIGATIONS)
    investigation_message(vigil)
    vigil.send.event({"type": "app_home_opened", "user": ANALYST, "tab": "home"})
    view = dump(vigil.slack.wait_for("views.publish")[0]["view"])
    assert "My open investigations" in view and "INV-1" in view and "acct_home_1" in view
    vigil.send.event({"type": "app_home_opened", "user": ANALYST_2, "tab": "home"})
    other = dump(vigil.slack.wait_for("views.publish", count=2)[1]["view"])
    assert "INV-1" not in other and "None open" in other


def test_vigil_investigate_prints_the_dossier(
    vigil: Vigil, fake_enforcement: FakeEnforcement, tmp_path: Path, monkeypatch
) -> None:
    fake_enforcement.add("acct_host_7", state="active", created_at="2026-11-01T00:00:00Z")
    history(vigil)
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    monkeypatch.setenv("VIGIL_ENFORCEMENT_URL", fake_enforcement.url)
    monkeypatch.setenv("VIGIL_ENFORCEMENT_TOKEN", fake_enforcement.token)
    result = CliRunner().invoke(main, ["investigate", "acct_host_7", "--at", "2026-11-23T10:00:00Z"])
    assert result.exit_code == 0, result.output
    for expected in (
        "Investigation of acct_host_7",
        "Profile: found",
        "created_at: 2026-11-01T00:00:00Z",
        "Account age: 22.42 days (profile)",
        "send_velocity: 1h 12",
        "report: scam <!channel> by guest_12",
        "acct_alt_2: ",
    ):
        assert expected in result.output, expected
    bad = CliRunner().invoke(main, ["investigate", "no way"])
    assert bad.exit_code == 2

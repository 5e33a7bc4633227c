"""The platform sends Vigil its abuse telemetry: batches arrive over HTTP or from a file,
are stored whole or refused whole, never twice, and become velocity features and reports."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.cli import main
from store.cases import CaseEvent
from store.signals import Report, Signal, SignalLink, SignalRollup
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ESCALATIONS, MONDAY, config_data
from workflows.config import Settings, parse_config
from workflows.jobs import JobRunner
from workflows.signals import IngestedBatch, ReportView, Signals

TOKEN = "sig-test-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"vigil_signals_token": SecretStr(TOKEN)})


def send(vigil: Vigil, body: Any, token: str | None = TOKEN, raw: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(
        f"{vigil.server.url}/api/v1/signals",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )


def signal(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{n}",
        "type": "login",
        "account_id": f"acct_{n % 7}",
        "occurred_at": (MONDAY - timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
        "value": 1,
        "attributes": {"country": "DE" if n % 2 else "US"},
        **extra,
    }


def count(vigil: Vigil, model: Any) -> int:
    with vigil.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_batch_is_stored_with_its_rollups_and_the_answer_counts_it(vigil: Vigil) -> None:
    batch = [signal(n) for n in range(50)]
    response = send(vigil, {"signals": batch})
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "accepted": 50, "duplicates": 0, "reports": 0}
    assert count(vigil, Signal) == 50
    with vigil.db.read() as session:
        stored = session.scalars(select(Signal).where(Signal.client_id == "evt-3")).one()
        assert stored.occurred_at == MONDAY - timedelta(minutes=3)
        assert stored.attributes == {"country": "DE"} and stored.value == 1.0
        overall = session.scalars(
            select(SignalRollup).where(SignalRollup.dimension == "", SignalRollup.signal_type == "login")
        ).all()
        assert sum(r.count for r in overall) == 50
        german = session.scalar(
            select(func.sum(SignalRollup.count)).where(
                SignalRollup.dimension == "country", SignalRollup.dim_value == "DE"
            )
        )
        assert german == 25
    # A bare array is accepted too.
    assert send(vigil, [signal(100)]).json()["accepted"] == 1


def test_a_retried_batch_and_repeated_ids_are_stored_once(vigil: Vigil) -> None:
    batch = [signal(n) for n in range(20)]
    assert send(vigil, {"signals": batch}).json()["accepted"] == 20
    again = send(vigil, {"signals": batch}).json()
    assert again == {"ok": True, "accepted": 0, "duplicates": 20, "reports": 0}
    # The same id twice in one batch, and a mix of old and new: only the new first copy lands.
    mixed = [signal(5), signal(30), signal(30), {**signal(31), "id": None}, {**signal(32), "id": None}]
    answer = send(vigil, {"signals": mixed}).json()
    assert (answer["accepted"], answer["duplicates"]) == (3, 2)
    assert count(vigil, Signal) == 23
    with vigil.db.read() as session:
        total = session.scalar(select(func.sum(SignalRollup.count)).where(SignalRollup.dimension == ""))
    assert total == 23  # rollups never count a duplicate


def test_bad_requests_are_refused_with_the_reason(vigil: Vigil) -> None:
    assert send(vigil, [signal(1)], token=None).status_code == 401
    wrong = send(vigil, [signal(1)], token="guess")
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]
    assert send(vigil, None, raw=b'{"signals": [').status_code == 400
    assert send(vigil, None, raw=b"\xff\xfe").status_code == 400
    assert send(vigil, {"rows": []}).status_code == 400
    big = send(vigil, {"signals": [signal(n) for n in range(10_001)]})
    assert big.status_code == 413 and "10000" in big.json()["error"]
    assert count(vigil, Signal) == 0


def test_a_batch_with_bad_rows_is_rejected_whole_naming_each_row(vigil: Vigil) -> None:
    batch = [
        signal(0),
        signal(1, occurred_at="yesterday"),
        signal(2, type="telepathy"),
        signal(3, occurred_at="2026-11-23T09:00:00"),  # no timezone
        signal(4, occurred_at=(MONDAY + timedelta(days=2)).isoformat()),
        signal(5, attributes={"blob": "x" * 9000}),
        signal(6, account_id="not an id!"),
        signal(7, value="lots"),
        signal(8, colour="red"),
        "not an object",
        signal(10),
    ]
    response = send(vigil, {"signals": batch})
    assert response.status_code == 422
    body = response.json()
    assert body["bad_rows"] == 9 and "nothing was stored" in body["error"]
    errors = {row["index"]: " ".join(row["errors"]) for row in body["rows"]}
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7, 8, 9}
    assert "occurred_at" in errors[1] and "ISO 8601" in errors[1]
    assert "unknown signal type 'telepathy'" in errors[2]
    assert "timezone" in errors[3]
    assert "future" in errors[4]
    assert "over the 8192-byte limit" in errors[5]
    assert "account_id" in errors[6]
    assert "value" in errors[7]
    assert "colour" in errors[8]
    assert count(vigil, Signal) == 0


def test_the_endpoint_is_off_until_a_token_is_set(vigil: Vigil) -> None:
    vigil.ctx.settings = vigil.ctx.settings.model_copy(update={"vigil_signals_token": None})
    response = send(vigil, [signal(1)])
    assert response.status_code == 404 and "VIGIL_SIGNALS_TOKEN" in response.json()["error"]


def test_a_report_joins_the_newest_open_case_about_its_account(vigil: Vigil) -> None:
    first_ts = vigil.post("host acct_77 is running a giveaway scam")
    # Slack events are handled side by side: the second case is the newer one once the first exists.
    eventually(lambda: vigil.ctx.cases.by_source(ESCALATIONS, first_ts))
    case_ts = vigil.post("again: host acct_77 asks guests to pay off-platform")
    eventually(lambda: vigil.ctx.cases.by_source(ESCALATIONS, case_ts))
    newest = vigil.ctx.cases.by_source(ESCALATIONS, case_ts)
    assert newest is not None
    reports = [
        {
            "id": "rep-1",
            "type": "report",
            "account_id": "acct_77",
            "occurred_at": MONDAY.isoformat(),
            "attributes": {
                "reporter": "guest_5",
                "reason": "scam",
                "text": "asked me to wire money <!channel>",
            },
        },
        {
            "id": "rep-2",
            "type": "report",
            "account_id": "acct_nobody_1",
            "occurred_at": MONDAY.isoformat(),
            "attributes": {"reason": "spam"},
        },
    ]
    assert send(vigil, {"signals": reports}).json()["reports"] == 2

    def routed() -> list[Report]:
        with vigil.db.read() as session:
            rows = session.scalars(select(Report).order_by(Report.id)).all()
            return list(rows) if all(r.routed_at for r in rows) else []

    linked, unlinked = eventually(routed)
    assert linked.case_id == newest.id and linked.text == "asked me to wire money <!channel>"
    assert unlinked.case_id is None
    with vigil.db.read() as session:
        event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "report_linked")).one()
    assert event.case_id == newest.id and event.data["reason"] == "scam"
    # A retried delivery of the same report adds nothing.
    assert send(vigil, {"signals": reports[:1]}).json()["duplicates"] == 1
    assert count(vigil, Report) == 2


class RecordingHooks:
    def __init__(self) -> None:
        self.reports: list[ReportView] = []
        self.batches: list[IngestedBatch] = []

    def reports_received(self, reports: list[ReportView]) -> dict[int, int | None]:
        self.reports += reports
        return {r.id: None for r in reports}

    def signal_ingested(self, batch: IngestedBatch) -> None:
        self.batches.append(batch)

    def anomaly_detected(self, anomaly: Any) -> None:
        return None


def test_rule_hooks_see_each_batch_after_it_is_stored(vigil: Vigil) -> None:
    hooks = RecordingHooks()
    vigil.ctx.signals.hooks = hooks  # what the playbooks capability will plug in
    batch = [signal(n) for n in range(10)] + [
        {"type": "report", "account_id": "acct_9", "occurred_at": MONDAY.isoformat(), "attributes": {}}
    ]
    assert send(vigil, {"signals": batch}).status_code == 200
    eventually(lambda: hooks.batches)
    assert hooks.batches[0].signals == 11 and hooks.batches[0].by_type == {"login": 10, "report": 1}
    assert "acct_9" in hooks.batches[0].accounts
    assert [r.account_id for r in hooks.reports] == ["acct_9"]


def test_shared_payment_fingerprints_and_devices_link_accounts(vigil: Vigil) -> None:
    batch = [
        signal(1, account_id="acct_a1", attributes={"payment_fingerprint": "fp_9"}),
        signal(2, account_id="acct_a2", attributes={"payment_fingerprint": "fp_9", "device_id": "dev_1"}),
        signal(3, account_id="acct_a3", attributes={"device_id": "dev_1"}),
        signal(4, account_id="acct_a3", attributes={"device_id": "dev_1"}),
    ]
    send(vigil, {"signals": batch})
    with vigil.db.read() as session:
        links = session.execute(select(SignalLink.key, SignalLink.value, SignalLink.account_id)).all()
    assert sorted(links) == [
        ("device_id", "dev_1", "acct_a2"),
        ("device_id", "dev_1", "acct_a3"),
        ("payment_fingerprint", "fp_9", "acct_a1"),
        ("payment_fingerprint", "fp_9", "acct_a2"),
    ]


def test_velocity_features_on_a_hand_built_history(vigil: Vigil) -> None:
    at = MONDAY

    def row(account: str, kind: str, ago: timedelta, value: float | None = 1.0) -> dict[str, Any]:
        return {"type": kind, "account_id": account, "occurred_at": (at - ago).isoformat(), "value": value}

    history = [
        row("acct_v", "send_velocity", timedelta(minutes=10), 40),
        row("acct_v", "send_velocity", timedelta(minutes=50), 60),
        row("acct_v", "send_velocity", timedelta(hours=5), 100),
        row("acct_v", "send_velocity", timedelta(days=3), 7),
        row("acct_v", "send_velocity", timedelta(days=9), 1000),  # outside every window
        row("acct_v", "payment_decline", timedelta(hours=2), None),
        row("acct_v", "login", at - (at - timedelta(days=20)), 1),  # first seen 20 days ago
    ]
    # The population: nine accounts with one send each in the last hour, one with five.
    for n in range(9):
        history.append(row(f"acct_p{n}", "send_velocity", timedelta(minutes=5)))
    history += [row("acct_busy", "send_velocity", timedelta(minutes=n + 1)) for n in range(5)]
    history[6] = row("acct_v", "login", timedelta(days=20))
    assert vigil.ctx.signals.ingest(history).accepted == len(history)

    features = vigil.ctx.signals.velocity("acct_v", at)
    sends = {w: features["windows"][w]["send_velocity"] for w in ("1h", "24h", "7d")}
    assert sends == {
        "1h": {"count": 2, "sum": 100.0},
        "24h": {"count": 3, "sum": 200.0},
        "7d": {"count": 4, "sum": 207.0},
    }
    assert features["windows"]["24h"]["payment_decline"] == {"count": 1, "sum": 0.0}
    assert features["windows"]["1h"]["report"] == {"count": 0, "sum": 0.0}  # every type is present
    assert features["first_seen"] == (at - timedelta(days=20)).isoformat()
    assert (features["account_age_days"], features["account_age_source"]) == (20.0, "first_seen")
    # 11 accounts sent in the last hour: nine sent 1, acct_v 2, acct_busy 5.
    assert features["population"]["1h"]["send_velocity"] == {"p50": 1, "p90": 2, "p99": 5, "accounts": 11}
    created = at - timedelta(days=400)
    from_profile = vigil.ctx.signals.velocity("acct_v", at, created_at=created)
    assert (from_profile["account_age_days"], from_profile["account_age_source"]) == (400.0, "profile")
    unknown = vigil.ctx.signals.velocity("acct_never_seen", at)
    assert unknown["first_seen"] is None and unknown["account_age_days"] is None
    json.dumps(features)  # a plain dict: what playbook conditions read


def test_vigil_signals_import_loads_csv_and_jsonl_or_nothing(
    vigil: Vigil, tmp_path: Path, monkeypatch
) -> None:
    config_file = tmp_path / "vigil.yaml"
    config_file.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config_file))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    recent = "2026-01-05T10:00:00Z"
    good = tmp_path / "signals.csv"
    good.write_text(
        "id,type,account_id,occurred_at,value,country,attributes\n"
        f"c1,login,acct_1,{recent},1,DE,\n"
        f'c2,report,acct_2,{recent},,US,"{{""reason"": ""spam"", ""reporter"": ""host_4""}}"\n'
        f"c3,payment_decline,acct_1,{recent},12.5,,\n"
    )
    result = CliRunner().invoke(main, ["signals", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "loaded 3 signals (0 already stored, 1 reports)" in result.output
    with vigil.db.read() as session:
        report = session.scalars(select(Report)).one()
        c1 = session.scalars(select(Signal).where(Signal.client_id == "c1")).one()
    assert (report.reason, report.reporter) == ("spam", "host_4")
    assert c1.attributes == {"country": "DE"}
    again = CliRunner().invoke(main, ["signals", "import", str(good)])
    assert "loaded 0 signals (3 already stored" in again.output

    bad = tmp_path / "signals.jsonl"
    bad.write_text(
        json.dumps({"id": "j1", "type": "login", "account_id": "acct_5", "occurred_at": recent})
        + "\n\n"
        + "{not json\n"
        + json.dumps({"id": "j3", "type": "warp", "account_id": "acct_5", "occurred_at": recent})
        + "\n"
    )
    refused = CliRunner().invoke(main, ["signals", "import", str(bad)])
    assert refused.exit_code == 1
    assert "signals.jsonl:3: not valid JSON" in refused.output
    assert "signals.jsonl:4: type: unknown signal type 'warp'" in refused.output
    assert "2 bad row(s) of 3; nothing was loaded" in refused.output
    assert count(vigil, Signal) == 3


def test_signals_config_has_defaults_and_names_bad_keys() -> None:
    config = parse_config(config_data())
    assert config.signals.dimensions == ["country", "reason"]
    assert config.signals.link_keys == ["payment_fingerprint", "device_id"]
    from workflows.config import ConfigError

    with pytest.raises(ConfigError, match=r"signals\.anomalies\.threshhold: unknown key"):
        parse_config({**config_data(), "signals": {"anomalies": {"threshhold": 3}}})
    with pytest.raises(ConfigError, match="'report' must stay"):
        parse_config({**config_data(), "signals": {"types": ["login"]}})


def test_ingest_is_a_workflow_callable_without_http(db, clock, config) -> None:
    signals = Signals(db, clock, config, jobs=JobRunner(db, clock))
    result = signals.ingest([signal(1), signal(2)])
    assert (result.accepted, result.by_type) == (2, {"login": 2})

"""Playbooks standardise decisions: T&S engineers write rules as code, see what a change
would have done before it goes live, and a broken file never takes the rules down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from commands.playbooks import SlackPlaybookAlerts
from store.cases import Case
from store.db import Database
from store.jobs import Job
from store.playbooks import RuleHit
from tests.harness.vigil import Vigil, eventually
from tests.harness.world import ADMIN, ALERTS, ANALYST, ENGINEERING, config_data
from workflows.cases import Cases, IncomingMessage
from workflows.clock import FixedClock
from workflows.config import VigilConfig, parse_config
from workflows.jobs import JobRunner
from workflows.playbooks import (
    AccountFeatures,
    PlaybookCaseRules,
    PlaybookError,
    Playbooks,
    backtest,
    load_rules,
    run_examples,
)


def write(folder: Path, name: str, rules: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump({"description": "test", "rules": rules}, sort_keys=False))
    return path


def rule(rule_id: str, condition: str, actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "description": f"{rule_id} rule",
        "trigger": extra.pop("trigger", "case.created"),
        "condition": condition,
        "actions": actions,
        **extra,
    }


def problems(folder: Path) -> list[str]:
    with pytest.raises(PlaybookError) as caught:
        load_rules(folder)
    return caught.value.problems


# --- loading and validation ------------------------
def test_the_shipped_playbook_loads_and_its_examples_pass() -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "playbooks")
    assert len(rules.rules) >= 6
    results = run_examples(rules)
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("case.priority == ", "rule r1: condition: CEL syntax error"),
        ("case.priorty == 'P1'", "rule r1: condition: unknown field 'case.priorty'"),
        ("account.reports_24 > 3", "unknown field 'account.reports_24'"),
        ("case.priority > 3", "rule r1: condition: type error"),
        ("case.priority", "must be true or false, got str"),
        ("signal.value > 1.0", "unknown variable signal for case.created"),
    ],
)
def test_bad_conditions_name_file_rule_and_field(tmp_path: Path, condition: str, expected: str) -> None:
    write(tmp_path, "bad.yaml", [rule("r1", condition, [{"add_label": "x"}])])
    found = problems(tmp_path)
    assert any(p.startswith("bad.yaml: ") and expected in p for p in found), found


def test_bad_actions_and_keys_are_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        [
            rule("r1", "true", [{"set_category": "spam"}]),
            rule("r2", "true", [{"set_priority": "P9"}]),
            rule("r3", "true", [{"add_label": "x", "route": "alerts"}]),
            {**rule("r5", "true", []), "colour": "red"},
            rule("r6", "true", [{"route": "#alerts"}]),
            rule("r7", "true", [], mode="sometimes"),
        ],
    )
    write(
        tmp_path, "b.yaml", [rule("r4", "true", [{"set_category": "other"}], trigger="enforcement.requested")]
    )
    found = "\n".join(problems(tmp_path))
    assert "a.yaml: rule r1: actions.0: set_category: 'spam' is not one of" in found
    assert "a.yaml: rule r2: actions.0.set_priority:" in found
    assert "a.yaml: rule r3: actions.0: each action sets exactly one of" in found
    assert "b.yaml: rule r4: actions: set_category does not apply to enforcement.requested" in found
    assert "a.yaml: rule r5: colour: unknown key" in found
    assert "a.yaml: rule r6: actions.0.route: '#alerts' is neither a channel id" in found
    assert "a.yaml: rule r7: mode:" in found


def test_duplicate_ids_broken_yaml_and_a_missing_folder(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", [rule("same", "true", [])])
    write(tmp_path, "two.yaml", [rule("same", "true", [])])
    (tmp_path / "three.yaml").write_text("rules: [unclosed\n")
    found = problems(tmp_path)
    assert "two.yaml: rule same: id: duplicate (also in one.yaml)" in found
    assert any(p.startswith("three.yaml line") and "not valid YAML" in p for p in found)
    assert problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: playbooks folder not found"]


def test_an_empty_folder_loads_no_rules_and_rules_check_says_so(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    assert load_rules(tmp_path / "empty").rules == []
    monkeypatch.setenv("VIGIL_CONFIG", "vigil.example.yaml")
    result = CliRunner().invoke(main, ["rules", "check", "--playbooks", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "no rules in" in result.output


def test_rules_check_and_test_from_the_command_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIGIL_CONFIG", "vigil.example.yaml")
    write(
        tmp_path,
        "p.yaml",
        [
            rule(
                "spam",
                "case.text.contains('spam')",
                [{"add_label": "spam"}],
                examples=[
                    {"name": "spam", "expect": "match", "context": {"case": {"text": "spam spam"}}},
                    {"name": "wrong on purpose", "expect": "match", "context": {"case": {"text": "ham"}}},
                ],
            )
        ],
    )
    checked = CliRunner().invoke(main, ["rules", "check", "--playbooks", str(tmp_path)])
    assert checked.exit_code == 0 and "OK: 1 rules in 1 file(s)" in checked.output
    tested = CliRunner().invoke(main, ["rules", "test", "--playbooks", str(tmp_path)])
    assert tested.exit_code == 1
    assert (
        "PASS spam: spam" in tested.output
        and "FAIL spam: wrong on purpose (expected match, got no match)" in tested.output
    )
    assert "1 passed, 1 failed" in tested.output
    write(tmp_path, "p.yaml", [rule("spam", "case.text.contains(", [])])
    broken = CliRunner().invoke(main, ["rules", "check", "--playbooks", str(tmp_path)])
    assert broken.exit_code == 1 and "p.yaml: rule spam: condition: CEL syntax error" in broken.output


# --- live cases through the real app ----------------
ACTION_RULES = [
    rule(
        "giveaway",
        "case.text.matches('(?i)giveaway')",
        [
            {"set_category": "host_report"},
            {"set_priority": "P1"},
            {"add_label": "crypto"},
            {"recommend": "suspend — matches known crypto-giveaway pattern"},
            {"require_second_review": "money moved off-platform"},
            {"route": "engineering"},
            {
                "notify": {
                    "channel": "alerts",
                    "template": "{{ case.id }} looks like a giveaway by {{ account.id }}",
                }
            },
            {"open_investigation": True},
        ],
    ),
    rule(
        "giveaway-shadow",
        "case.text.matches('(?i)giveaway')",
        [{"set_priority": "P4"}, {"route": "alerts"}],
        mode="shadow",
    ),
    rule("fragile", "int(case.author) > 5", [{"add_label": "numeric_author"}]),
    rule(
        "capped",
        "case.text.contains('capped')",
        [{"add_label": "capped"}],
        guardrails={"max_actions_per_day": 1},
    ),
    rule("expired", "true", [{"add_label": "expired"}], guardrails={"expires_at": "2026-01-01"}),
    rule("off", "true", [{"add_label": "off"}], mode="off"),
    rule(
        "resolved-actioned",
        "change == 'resolved' && case.outcome == 'actioned'",
        [{"add_label": "closed_actioned"}],
        trigger="case.updated",
    ),
]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    write(folder, "live.yaml", ACTION_RULES)
    return folder


@pytest.fixture
def config(rules_dir: Path) -> VigilConfig:
    return parse_config({**config_data(), "playbooks": str(rules_dir)})


def case_at(vigil: Vigil, ts: str) -> Case:
    def find() -> Case | None:
        with vigil.db.read() as session:
            return session.scalars(select(Case).where(Case.ts == ts)).first()

    return eventually(find)


def hits(db: Database, subject: str | None = None) -> list[RuleHit]:
    with db.read() as session:
        query = select(RuleHit).order_by(RuleHit.id)
        if subject:
            query = query.where(RuleHit.subject_id == subject)
        return list(session.scalars(query))


def test_each_action_applies_to_a_new_case(vigil: Vigil) -> None:
    ts = vigil.post("Host acct_4471 runs a crypto GIVEAWAY, send 1 ETH get 2 back")
    case = case_at(vigil, ts)
    assert (case.category, case.priority) == ("host_report", "P1")
    assert case.sla_due_at == case.created_at + timedelta(hours=1)
    assert case.labels == ["crypto"]
    assert case.recommendations == [
        {"rule": "giveaway", "text": "suspend — matches known crypto-giveaway pattern"}
    ]
    assert case.second_review == "money moved off-platform (giveaway)"
    route = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ENGINEERING)[0]
    assert "CASE-1 (P1, host_report) matched playbook rule giveaway" in route["text"]
    notify = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert notify["text"] == "CASE-1 looks like a giveaway by acct_4471"
    with vigil.db.read() as session:
        queued = session.scalars(select(Job).where(Job.kind == "investigation.open")).all()
    assert [j.payload["account_id"] for j in queued] == ["acct_4471"]
    card = json.dumps(
        vigil.slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == ts)[0]["blocks"]
    )
    assert "matches known crypto-giveaway pattern" in card and "rule `giveaway`" in card
    assert "Second review required" in card and "playbook: `giveaway`" in card


def test_shadow_records_what_it_would_have_done_and_never_acts(vigil: Vigil) -> None:
    ts = vigil.post("weekend giveaway for guests")
    case = case_at(vigil, ts)
    assert case.priority == "P1"  # the live rule's, not the shadow rule's P4
    shadow = [h for h in hits(vigil.db, case.ref) if h.rule_id == "giveaway-shadow"]
    assert len(shadow) == 1 and shadow[0].mode == "shadow"
    assert shadow[0].actions == [{"set_priority": "P4"}, {"route": "alerts"}]
    assert shadow[0].why == {"case.text": "weekend giveaway for guests"}
    vigil.run_jobs()
    assert not [
        c for c in vigil.slack.calls_of("chat.postMessage") if "giveaway-shadow" in (c.get("text") or "")
    ]


def test_a_rule_that_fails_on_one_subject_does_not_stop_the_others(vigil: Vigil) -> None:
    words = vigil.post("giveaway from a person", user="U0CX00001")
    numeric = vigil.post("giveaway from a numeric integration", user="12345")
    assert case_at(vigil, words).labels == ["crypto"]  # fragile errored here; the others ran
    assert sorted(case_at(vigil, numeric).labels) == ["crypto", "numeric_author"]
    body = vigil.send.http.get(f"{vigil.server.url}/metrics").text
    assert 'vigil_rule_errors_total{rule="fragile"}' in body


def test_guardrails_cap_actions_per_day_and_expired_or_off_rules_never_run(vigil: Vigil) -> None:
    first = case_at(vigil, vigil.post("capped one"))
    second = case_at(vigil, vigil.post("capped two"))
    assert first.labels == ["capped"] and second.labels == []
    capped = [h for h in hits(vigil.db) if h.rule_id == "capped"]
    assert [h.mode for h in capped] == ["live", "shadow"]
    assert capped[1].note == "max_actions_per_day (1) reached"
    assert not [h for h in hits(vigil.db) if h.rule_id in ("expired", "off")]
    vigil.clock.advance(timedelta(days=1))
    assert case_at(vigil, vigil.post("capped three")).labels == ["capped"]


def test_case_updated_rules_run_on_changes(vigil: Vigil) -> None:
    ts = vigil.post("user acct_3 spam")
    case = case_at(vigil, ts)
    vigil.ctx.cases.resolve(case.id, ANALYST, "actioned")
    with vigil.db.read() as session:
        assert session.get(Case, case.id).labels == ["closed_actioned"]
    vigil.send.command("/vigil", f"case {case.ref}", user=ANALYST)
    detail = json.dumps(vigil.slack.wait_for("response_url")[0]["blocks"])
    assert "Rules that matched, and why" in detail and "resolved-actioned" in detail
    assert "change=&#x27;resolved&#x27;" in detail or "change='resolved'" in detail
    assert "case.outcome='actioned'" in detail


def test_vigil_rules_lists_rules_with_their_hits(vigil: Vigil) -> None:
    case_at(vigil, vigil.post("giveaway again"))
    vigil.send.command("/vigil", "rules", user=ANALYST)
    text = json.dumps(vigil.slack.wait_for("response_url")[0]["blocks"])
    assert "`giveaway` case.created" in text and "*1 live* in 7d" in text
    assert "`giveaway-shadow`" in text and "0 live, 1 shadow" in text


def test_vigil_rules_counts_hits_of_the_last_seven_days(vigil: Vigil) -> None:
    case_at(vigil, vigil.post("giveaway last week"))
    vigil.clock.advance(timedelta(days=7, minutes=1))
    vigil.send.command("/vigil", "rules", user=ANALYST)
    text = json.dumps(vigil.slack.wait_for("response_url")[0]["blocks"])
    assert "`giveaway` case.created" in text and "*0 live* in 7d" in text


def test_a_notification_quotes_the_case_without_letting_it_ping_anyone(vigil: Vigil, rules_dir: Path) -> None:
    template = "{{ case.id }} asks for a refund: {{ case.text }}"
    notify = {"notify": {"channel": "alerts", "template": template}}
    write(rules_dir, "live.yaml", [rule("refunds", "case.text.contains('refund')", [notify])])
    vigil.ctx.playbooks.reload()
    case = case_at(vigil, vigil.post("refund me now <!channel> & <@U0ADM0001>"))
    posted = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ALERTS)[0]
    assert (
        posted["text"]
        == f"{case.ref} asks for a refund: refund me now &lt;!channel&gt; &amp; &lt;@U0ADM0001&gt;"
    )


def test_a_broken_file_never_replaces_the_live_rules(vigil: Vigil, rules_dir: Path) -> None:
    live = vigil.ctx.playbooks.rules.version
    # As `vigil serve` runs it: admins hear about a refused change.
    vigil.ctx.playbooks.listener = SlackPlaybookAlerts(vigil.ctx.notifier.client, vigil.ctx.config)  # type: ignore[attr-defined]
    (rules_dir / "live.yaml").write_text(
        (rules_dir / "live.yaml")
        .read_text()
        .replace("case.text.matches('(?i)giveaway')", "case.text.matches(", 1)
    )
    assert vigil.ctx.playbooks.reload_if_changed() is False
    assert vigil.ctx.playbooks.rules.version == live
    dm = vigil.slack.wait_for("chat.postMessage", where=lambda c: c["channel"] == ADMIN)[0]
    assert "refused; the previous rules stay live" in dm["text"] and "rule giveaway: condition" in dm["text"]
    # The old rules keep working.
    assert case_at(vigil, vigil.post("giveaway still caught")).priority == "P1"
    # An admin fixes the file; the next check picks it up without a restart.
    write(rules_dir, "live.yaml", [rule("only", "true", [{"add_label": "new_rules"}])])
    assert vigil.ctx.playbooks.reload_if_changed() is True
    assert case_at(vigil, vigil.post("anything")).labels == ["new_rules"]


def test_reload_from_slack_is_for_admins(vigil: Vigil, rules_dir: Path) -> None:
    refused = vigil.send.command("/vigil", "rules reload", user=ANALYST)
    assert "only Vigil admins" in refused.json()["text"]
    write(rules_dir, "extra.yaml", [rule("extra", "true", [])])
    vigil.send.command("/vigil", "rules reload", user=ADMIN)
    assert "Playbooks reloaded: 8 rules" in vigil.slack.wait_for("response_url")[0]["text"]


# --- backtest ---------------------------------------
@pytest.fixture
def history(db: Database, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Database, FixedClock, Path]]:
    """Two weeks of cases whose right answers are known.

    live rule `scam`: text contains 'scam'. Outcomes: scam cases 1,2 actioned, 3 no action;
    fraud cases 4 actioned, 5 no action; case 6 (spam) actioned; case 7 (scam) still open.
    """
    live_dir = tmp_path / "live"
    write(live_dir, "p.yaml", [rule("scam", "case.text.contains('scam')", [{"add_label": "scam"}])])
    config = parse_config({**config_data(), "playbooks": str(live_dir)})
    playbooks = Playbooks(live_dir)
    playbooks.reload()
    rules = PlaybookCaseRules(playbooks, AccountFeatures(), clock, config)
    escalations = Cases(db, clock, config, JobRunner(db, clock), rules=rules)
    script = [
        ("scam by acct_1", "actioned"),
        ("another scam acct_2", "actioned"),
        ("scam? acct_3", "no_action"),
        ("fraud ring acct_4", "actioned"),
        ("fraud claim acct_5", "no_action"),
        ("spam acct_6", "actioned"),
        ("scam acct_7", None),
    ]
    for n, (text, outcome) in enumerate(script):
        clock.advance(timedelta(hours=3))
        result = escalations.open_case(
            IncomingMessage(channel="C0ESC0001", ts=f"1763{n:06d}.1", user="U1", text=text)
        )
        if outcome:
            escalations.resolve(result.case.id, ANALYST, outcome)  # type: ignore[union-attr]
    yield db, clock, tmp_path


def test_backtest_against_known_answers(history: tuple[Database, FixedClock, Path]) -> None:
    db, clock, tmp_path = history
    candidate = tmp_path / "candidate"
    write(
        candidate,
        "p.yaml",
        [
            rule("scam", "case.text.matches('scam|fraud')", [{"add_label": "scam"}]),
            rule("spam-only", "case.text.contains('spam')", [], mode="shadow"),
        ],
    )
    with db.read() as session:
        rows = {
            r.rule_id: r
            for r in backtest(
                session,
                load_rules(candidate),
                clock.now() - timedelta(days=30),
                clock.now(),
                AccountFeatures(),
            )
        }
    scam = rows["scam"]
    assert (scam.evaluated, scam.matched, scam.live_matched) == (7, 6, 4)
    assert (scam.newly_matched, scam.no_longer_matched) == (2, 0)
    assert (scam.true_positives, scam.false_positives, scam.false_negatives, scam.unlabelled) == (3, 2, 1, 1)
    assert scam.precision == pytest.approx(3 / 5) and scam.recall == pytest.approx(3 / 4)
    spam = rows["spam-only"]
    assert (spam.matched, spam.true_positives, spam.false_negatives) == (1, 1, 3)
    assert spam.precision == 1.0 and spam.recall == pytest.approx(1 / 4)


def test_backtest_from_the_command_line_writes_csv(history, monkeypatch, tmp_path: Path) -> None:
    db, _clock, _ = history
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump({**config_data(), "playbooks": str(tmp_path / "live")}))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", db.url)
    out = tmp_path / "bt.csv"
    # The history is in late November 2026; "since" is relative to the wall clock.
    result = CliRunner().invoke(
        main, ["rules", "backtest", "--since", "2026-11-01", "--rule", "scam", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "scam" in result.output and "precision" in result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("rule,trigger,mode,evaluated,matched,live")
    assert lines[1].startswith("scam,case.created,live,7,4,4,0,0,2,1,2,1,0,0.6667,0.5000")
    unknown = CliRunner().invoke(main, ["rules", "backtest", "--rule", "nope"])
    assert unknown.exit_code == 1 and "no rule 'nope'" in unknown.output
    bad_since = CliRunner().invoke(main, ["rules", "backtest", "--since", "last tuesday"])
    assert bad_since.exit_code == 2 and "use 30d, 12h, 2w or an ISO date" in bad_since.output


def test_features_count_only_what_came_before(db: Database, clock: FixedClock, config: VigilConfig) -> None:
    escalations = Cases(db, clock, config, JobRunner(db, clock))
    for _ in range(3):
        clock.advance(timedelta(minutes=30))
        escalations.open_case(
            IncomingMessage(channel="C0ESC0001", ts=str(clock.now().timestamp()), text="acct_9 spam")
        )
    with db.read() as session:
        now = AccountFeatures().for_account(session, "acct_9", clock.now() + timedelta(seconds=1))
        earlier = AccountFeatures().for_account(session, "acct_9", clock.now() - timedelta(minutes=45))
    assert (now["cases_1h"], now["cases_24h"], now["cases_7d"]) == (2, 3, 3)
    assert earlier["cases_7d"] == 1

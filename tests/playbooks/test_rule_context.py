"""What a rule sees and how its author's words are read, without a database: the context
each trigger builds from its subject, the defaults that keep a rule running before a feed
is connected, the field checks that catch a typo at load time, the notification text, the
daily cap, and the --since an engineer types for a backtest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cel
import pytest
from jinja2 import TemplateError

from tests.harness.world import MONDAY
from workflows.playbooks import SCHEMA, CompiledRule, Rule, RuleSet, evaluate, parse_since, with_defaults
from workflows.playbooks.context import (
    WINDOWS,
    accounts_in,
    anomaly_context,
    case_context,
    report_context,
    request_context,
    signal_context,
)
from workflows.playbooks.evaluate import daily_cap_reached, render_notification, start_of_day
from workflows.playbooks.loader import check_path, field_paths

ACCOUNT = {"id": "acct_1", "reports_24h": 2}


def a_case(**fields: Any) -> SimpleNamespace:
    """A case as the cases capability hands it to rules: eleven minutes old, claimed, escalated once."""
    return SimpleNamespace(
        **{
            "ref": "CASE-7",
            "category": "host_report",
            "priority": "P2",
            "status": "claimed",
            "source": "channel",
            "text": "host acct_1 wants a wire transfer",
            "author": None,
            "author_is_bot": None,
            "channel": "C0ESC0001",
            "labels": ["scam"],
            "escalations": 1,
            "outcome": None,
            "created_at": MONDAY - timedelta(minutes=11, seconds=59),
            **fields,
        }
    )


def compiled(rule_id: str, condition: str, **extra: Any) -> CompiledRule:
    rule = Rule(id=rule_id, description="test", trigger="case.created", condition=condition, **extra)
    return CompiledRule(rule, "t.yaml", "v1", cel.compile(condition), field_paths(condition, ["case"]))


# --- the context of each trigger ----------------------------------------
def test_a_case_is_seen_as_it_stands_now_with_its_age_in_whole_minutes() -> None:
    context = case_context(a_case(), ["acct_1"], ACCOUNT, MONDAY, change="escalated")
    case = context["case"]
    assert (case["id"], case["status"], case["labels"], case["escalations"]) == (
        "CASE-7",
        "claimed",
        ["scam"],
        1,
    )
    assert case["age_minutes"] == 11
    assert (case["author"], case["author_is_bot"], case["outcome"]) == ("", False, "")
    assert context["account"] is ACCOUNT and context["change"] == "escalated"


def test_a_backtest_sees_the_case_as_it_was_opened() -> None:
    context = case_context(a_case(outcome="actioned"), [], {"id": ""}, MONDAY, as_created=True)
    case = context["case"]
    assert (case["status"], case["labels"], case["escalations"], case["outcome"], case["age_minutes"]) == (
        "new",
        [],
        0,
        "",
        0,
    )
    assert "change" not in context  # case.created has no change


def test_a_request_report_signal_and_anomaly_each_become_their_documented_context() -> None:
    request = SimpleNamespace(
        ref="REQ-3",
        action="suspend",
        reason_code="fraud",
        account_count=120,
        requester="U0ANA0001",
        note=None,
        evidence="CASE-7",
    )
    assert request_context(request, ["acct_1", "acct_2"], ACCOUNT) == {
        "request": {
            "id": "REQ-3",
            "action": "suspend",
            "reason_code": "fraud",
            "accounts": ["acct_1", "acct_2"],
            "count": 120,
            "requester": "U0ANA0001",
            "note": "",
            "evidence": "CASE-7",
        },
        "account": ACCOUNT,
    }
    report = SimpleNamespace(id=9, account_id="acct_1", reporter=None, reason="scam", text=None)
    assert report_context(report, 7, ACCOUNT)["report"] == {
        "id": "report:9",
        "account_id": "acct_1",
        "reporter": "",
        "reason": "scam",
        "text": "",
        "case_id": "CASE-7",
    }
    assert report_context(report, None, ACCOUNT)["report"]["case_id"] == ""  # not linked to a case
    signal = SimpleNamespace(id=4, type="login", account_id="acct_1", value=None, attributes=None)
    assert signal_context(signal, ACCOUNT)["signal"] == {
        "id": "signal:4",
        "type": "login",
        "account_id": "acct_1",
        "value": 0.0,
        "attributes": {},
    }
    anomaly = SimpleNamespace(
        id=5,
        signal_type="report",
        dimension="country",
        dim_value="FR",
        kind="spike",
        observed=40,
        baseline=4,
        score=9,
        data={"top_accounts": ["junk", {"account_id": "acct_9"}, {"account_id": "acct_8"}]},
    )
    context = anomaly_context(anomaly)
    assert context["anomaly"] == {
        "id": "anomaly:5",
        "signal_type": "report",
        "dimension": "country",
        "value": "FR",
        "kind": "spike",
        "observed": 40.0,
        "expected": 4.0,
        "score": 9.0,
    }
    assert context["account"] == {"id": "acct_9"}  # the top contributor, for hits and investigations
    assert anomaly_context(SimpleNamespace(**{**vars(anomaly), "data": None}))["account"] == {"id": ""}


def test_open_investigation_targets_the_accounts_of_each_kind_of_subject() -> None:
    assert accounts_in({"case": {"accounts": ["a", "b"]}, "account": {"id": "a"}}) == ["a", "b"]
    assert accounts_in({"request": {"accounts": ["c"]}}) == ["c"]
    assert accounts_in({"report": {"account_id": "d"}}) == ["d"]
    assert accounts_in({"signal": {"account_id": "e"}}) == ["e"]
    assert accounts_in({"anomaly": {}, "account": {"id": "f"}}) == ["f"]


# --- defaults ----------------------------------------
@pytest.mark.parametrize("trigger", sorted(SCHEMA))
def test_every_documented_field_is_there_even_when_nothing_provides_it(trigger: str) -> None:
    full = with_defaults(trigger, {})
    assert set(full) == set(SCHEMA[trigger])
    for root, fields in SCHEMA[trigger].items():
        if isinstance(fields, dict):
            assert set(full[root]) == {k for k in fields if k != "*"}


def test_defaults_fill_gaps_and_never_overwrite_what_was_given() -> None:
    full = with_defaults(
        "signal.ingested",
        {
            "signal": {"type": "login", "attributes": {"country": "FR"}},
            "account": {"id": "acct_1", "cases_7d": 3},
            "extra": 1,
        },
    )
    assert full["signal"]["type"] == "login" and full["signal"]["value"] == 0.0
    assert full["signal"]["attributes"] == {"country": "FR"}  # a free-form map passes as it is
    assert full["account"]["cases_7d"] == 3 and full["account"]["signals_1h"] == 0
    assert full["account"]["suspended"] is False and full["extra"] == 1
    assert {f"reports_{w}" for w in WINDOWS} <= set(full["account"])
    case = with_defaults("case.created", {"case": "not a map"})["case"]
    assert case["accounts"] == [] and case["labels"] == []  # lists default empty, not to the sample
    assert case["priority"] == "P3"


# --- field checks ----------------------------------------
def test_field_paths_are_read_from_the_condition_not_from_its_strings_or_calls() -> None:
    condition = (
        "case.text.contains('account.reports_24h') && account.reports_24h > 2 "
        '&& case.text.matches("case.priority") && account.reports_24h < 9 && size(case.accounts) > 1'
    )
    assert field_paths(condition, ["case", "account"]) == [
        "case.text",
        "account.reports_24h",
        "case.accounts",
    ]
    assert field_paths("signal.attributes.country == 'FR'", ["signal"]) == ["signal.attributes.country"]
    assert field_paths("other.thing == 1", ["case"]) == []


def test_a_misspelt_field_is_named_with_what_is_known_there() -> None:
    schema = SCHEMA["signal.ingested"]
    assert check_path(schema, "signal.value") is None
    assert check_path(schema, "signal.attributes.anything_at_all") is None  # free-form
    problem = check_path(schema, "signal.valeu")
    assert problem is not None and problem.startswith("unknown field 'signal.valeu' (known here: ")
    assert "account_id, attributes, id, type, value" in problem
    assert check_path(schema, "signal.type.length") == (
        "unknown field 'signal.type.length' (known here: nothing (not a map))"
    )


# --- notifications ----------------------------------------
def test_a_notification_is_plain_text_left_for_the_slack_adapter_to_escape() -> None:
    context = with_defaults("case.created", {"case": {"id": "CASE-1", "text": "a & b <!channel>"}})
    text = render_notification("{{ case.id }}: {{ case.text }}", context)
    assert text == "CASE-1: a & b <!channel>"  # no HTML entities: Slack escaping happens once, later


def test_a_template_cannot_read_a_missing_field_or_leave_the_sandbox() -> None:
    context = with_defaults("case.created", {})
    with pytest.raises(TemplateError):
        render_notification("{{ case.nope }}", context)
    with pytest.raises(TemplateError):
        render_notification("{{ case.__class__.__mro__ }}", context)


# --- guardrails ----------------------------------------
def test_a_rule_at_its_daily_cap_only_records() -> None:
    capped = compiled("capped", "true", guardrails={"max_actions_per_day": 2})
    assert daily_cap_reached(capped, lambda rule: 1) is None
    assert daily_cap_reached(capped, lambda rule: 2) == "max_actions_per_day (2) reached"
    assert daily_cap_reached(compiled("free", "true"), lambda rule: 99) is None
    rules = RuleSet([capped], "v", Path("."), ["t.yaml"])
    match = evaluate(rules, "case.created", "CASE-1", {}, MONDAY, lambda rule: 2).matches[0]
    assert (match.mode, match.note) == ("shadow", "max_actions_per_day (2) reached")


def test_expired_and_off_rules_do_not_run_live_but_do_in_a_backtest() -> None:
    expired = compiled("expired", "true", guardrails={"expires_at": date(2026, 11, 23)})
    until_noon = compiled("until-noon", "true", guardrails={"expires_at": datetime(2026, 11, 23, 12)})
    off = compiled("off", "true", mode="off")
    assert not expired.active(MONDAY) and until_noon.active(MONDAY) and not off.active(MONDAY)
    rules = RuleSet([expired, until_noon, off], "v", Path("."), ["t.yaml"])
    assert [m.rule.id for m in evaluate(rules, "case.created", "CASE-1", {}, MONDAY).matches] == [
        "until-noon"
    ]
    everything = evaluate(rules, "case.created", "CASE-1", {}, MONDAY, everything=True)
    assert [m.rule.id for m in everything.matches] == ["expired", "until-noon", "off"]


def test_the_daily_cap_counts_from_local_midnight() -> None:
    berlin = timezone(timedelta(hours=1))
    assert start_of_day(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), berlin) == datetime(
        2026, 11, 24, tzinfo=berlin
    )


# --- --since ----------------------------------------
def test_since_takes_hours_days_weeks_or_a_date() -> None:
    assert parse_since("12h", MONDAY) == MONDAY - timedelta(hours=12)
    assert parse_since(" 30d ", MONDAY) == MONDAY - timedelta(days=30)
    assert parse_since("2w", MONDAY) == MONDAY - timedelta(weeks=2)
    assert parse_since("2026-11-01", MONDAY) == datetime(2026, 11, 1, tzinfo=UTC)  # in now's zone
    plus_two = timezone(timedelta(hours=2))
    assert parse_since("2026-11-01T08:00:00+02:00", MONDAY) == datetime(2026, 11, 1, 8, tzinfo=plus_two)


@pytest.mark.parametrize("text", ["last tuesday", "30", "3m", "-2d", ""])
def test_a_since_nobody_can_read_says_what_would_work(text: str) -> None:
    with pytest.raises(ValueError, match=r"use 30d, 12h, 2w or an ISO date"):
        parse_since(text, MONDAY)

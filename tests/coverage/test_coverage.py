"""Coverage on a hand-built month whose answers are known.

| account      | category      | first found by          | delay | rule matched |
| ------------ | ------------- | ----------------------- | ----- | ------------ |
| acct_pay_1   | payment_abuse | report rep-91           | 31 h  | shadow only  |
| acct_pay_2   | payment_abuse | report rep-92           | 10 h  | no           |
| acct_pay_3   | payment_abuse | rule pay-block          | 1 h   | yes          |
| acct_spam_1  | spam          | model_signal            | 0 h   | no           |
| acct_spam_2  | spam          | anomaly (via INV)       | 48 h  | no           |
| acct_fraud_1 | fraud         | investigation INV       | 3 h   | no           |
| acct_phish_1 | phishing      | cx_escalation CASE      | 6 h   | no           |

Reversed suspensions, legitimate outliers, cases closed without action and confirmations
before the window are not confirmed abuse."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from store.coverage import CoverageFinding
from tests.coverage.history import T0, build
from tests.harness.vigil import Vigil
from tests.harness.world import ANALYST, MONDAY, OUTSIDER, config_data
from workflows.coverage import Coverage, CoverageReport

SINCE = MONDAY - timedelta(days=30)


def report_of(vigil: Vigil, by: str = "category") -> CoverageReport:
    build(vigil.db)
    return Coverage(vigil.db, vigil.ctx.config, vigil.clock).report(SINCE, MONDAY, by)  # type: ignore[arg-type]


def test_each_confirmed_abuse_is_traced_to_how_it_was_first_found(vigil: Vigil) -> None:
    report = report_of(vigil)
    found = {f.account_id: (f.category, f.source, f.delay_hours, f.rule_matched) for f in report.findings}
    assert found == {
        "acct_pay_1": ("payment_abuse", "report", 31.0, True),
        "acct_pay_2": ("payment_abuse", "report", 10.0, False),
        "acct_pay_3": ("payment_abuse", "rule", 1.0, True),
        "acct_spam_1": ("spam", "model_signal", 0.0, False),
        "acct_spam_2": ("spam", "anomaly", 48.0, False),
        "acct_fraud_1": ("fraud", "investigation", 3.0, False),
        "acct_phish_1": ("phishing", "cx_escalation", 6.0, False),
    }
    refs = {f.account_id: f.source_ref for f in report.findings}
    assert refs["acct_pay_1"] == "rep-91" and refs["acct_pay_3"] == "pay-block"
    assert refs["acct_spam_2"].startswith("anomaly-") and refs["acct_fraud_1"].startswith("INV-")


def test_the_derivation_is_stored_for_audit_and_rederived_in_place(vigil: Vigil) -> None:
    report_of(vigil)
    service = Coverage(vigil.db, vigil.ctx.config, vigil.clock)
    service.report(SINCE, MONDAY)  # a second run changes nothing
    with vigil.db.read() as s:
        assert s.scalar(select(func.count()).select_from(CoverageFinding)) == 7
        pay = s.scalars(select(CoverageFinding).where(CoverageFinding.account_id == "acct_pay_1")).one()
        assert pay.first_signal_at == T0 and pay.found_at == T0 + timedelta(hours=31)
        assert [c["source"] for c in pay.candidates] == [
            "report",
            "report",
        ]  # rep-91, then the host_report case
    (line, *candidates) = service.explain("acct_pay_1")
    assert "first found by report rep-91 at 2026-11-14 17:00 UTC, 31 h after its first signal" in line
    assert len(candidates) == 2


def test_figures_per_category_and_the_weak_points_ranked(vigil: Vigil) -> None:
    report = report_of(vigil)
    groups = {g.key: g for g in report.groups}
    pay = groups["payment_abuse"]
    assert (pay.confirmed, pay.automation, pay.people) == (3, 1, 2)
    assert (pay.median_delay_hours, pay.p90_delay_hours, pay.no_rule_matched, pay.weak) == (10.0, 31.0, 1, 2)
    spam = groups["spam"]
    assert (spam.automation_share, spam.median_delay_hours, spam.p90_delay_hours, spam.late) == (
        1.0,
        24.0,
        48.0,
        1,
    )
    assert report.totals.confirmed == 7 and report.totals.no_rule_matched == 5
    assert report.totals.by_source == {
        "rule": 1,
        "anomaly": 1,
        "model_signal": 1,
        "report": 2,
        "cx_escalation": 1,
        "investigation": 1,
    }
    assert [(w.rank, w.key, w.weak) for w in report.weak_points] == [
        (1, "payment_abuse", 2),
        (2, "fraud", 1),
        (3, "phishing", 1),
        (4, "spam", 1),
    ]
    assert (
        report.weak_points[0].why
        == "2 of 3 found only by people or after 24 h; 67% by people, median delay 10 h"
    )


def test_by_source_and_by_pattern(vigil: Vigil) -> None:
    report = report_of(vigil, "source")
    assert {g.key: g.confirmed for g in report.groups} == {
        "report": 2,
        "rule": 1,
        "anomaly": 1,
        "model_signal": 1,
        "cx_escalation": 1,
        "investigation": 1,
    }
    assert report.weak_points[0].key == "payment_abuse"  # weak points stay categories
    by_pattern = Coverage(vigil.db, vigil.ctx.config, vigil.clock).report(SINCE, MONDAY, "pattern")
    assert [(g.key, g.confirmed) for g in by_pattern.groups] == [("(no pattern)", 7)]
    assert by_pattern.weak_points == []


@pytest.fixture
def cli(vigil: Vigil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Vigil:
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(config_data()))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    monkeypatch.setenv("VIGIL_DATABASE_URL", vigil.db.url)
    build(vigil.db)
    return vigil


def test_vigil_coverage_prints_a_table_json_and_csv(cli: Vigil) -> None:
    table = CliRunner().invoke(main, ["coverage", "--since", "2026-11-01", "--until", "2026-11-24"])
    assert table.exit_code == 0, table.output
    assert (
        "Coverage of confirmed abuse 2026-11-01 00:00 → 2026-11-24 00:00 (UTC), by category" in table.output
    )
    assert "1. payment_abuse: 2 of 3 found only by people or after 24 h" in table.output
    as_json = CliRunner().invoke(main, ["coverage", "--since", "2026-11-01", "--format", "json"])
    data = json.loads(as_json.output)
    assert data["by"] == "category" and data["totals"]["confirmed"] == 7
    assert data["weak_points"][0]["key"] == "payment_abuse"
    assert {
        "key",
        "confirmed",
        "automation_share",
        "people_share",
        "median_delay_hours",
        "p90_delay_hours",
        "no_rule_matched",
        "by_source",
        "weak_score",
    } <= set(data["groups"][0])
    as_csv = CliRunner().invoke(
        main, ["coverage", "--since", "2026-11-01", "--by", "source", "--format", "csv"]
    )
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0][:3] == ["source", "confirmed", "automation"] and rows[-1][:2] == ["all", "7"]
    explain = CliRunner().invoke(main, ["coverage", "--since", "2026-11-01", "--explain", "acct_spam_2"])
    assert "first found by anomaly anomaly-" in explain.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "last week"], "--since 'last week': use an ISO date"),
        (["--since", "2026-11-20", "--until", "2026-11-10"], "--until must be after --since"),
        (["--by", "country"], "Invalid value for '--by'"),
        (["--explain", "acct_nobody"], "no confirmed abuse of 'acct_nobody' is on record"),
    ],
)
def test_bad_coverage_requests_stop_with_one_line(cli: Vigil, args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, ["coverage", *args])
    assert result.exit_code != 0 and says in result.output


def test_slash_vigil_coverage_shows_it_privately(vigil: Vigil) -> None:
    build(vigil.db)
    assert vigil.send.command("/vigil", "coverage 30d", user=ANALYST).status_code == 200
    answer = vigil.slack.wait_for("response_url")[0].args
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Detection coverage" in shown and "payment_abuse" in shown and "Weak points" in shown
    assert "7 confirmed abuse: 43% found by automation, 57% by people" in answer["text"]

    vigil.send.command("/vigil", "coverage yesterday-ish", user=ANALYST)
    bad = vigil.slack.wait_for("response_url", count=2)[1].args
    assert bad["response_type"] == "ephemeral" and "Usage:" in bad["text"]

    refused = vigil.send.command("/vigil", "coverage", user=OUTSIDER).json()
    assert refused["response_type"] == "ephemeral"


def test_a_pattern_that_caught_an_account_before_its_report_is_how_it_was_found(vigil: Vigil) -> None:
    """acct_pay_2 was reported 34 h in; had the hourly pattern job put it in PAT-n at 28 h, the
    pattern is how it was found (4 h after its first signal at 24 h), and a pattern dismissed as "not
    abuse" never counts."""
    from store.patterns import Pattern, PatternMember
    from tests.coverage.history import h

    build(vigil.db)
    with vigil.db.transaction() as s:
        for feedback in ("not_abuse", None):
            pattern = Pattern(
                kind="template", label="pay me outside", status="posted", feedback=feedback,
                size=3, account_count=3, day=0, prev_day=0, week=3, prev_week=0,
                first_seen=h(26), last_seen=h(27), detected_at=h(27 if feedback else 28),
                updated_at=h(28), terms=[], examples=[], top_accounts=[],
            )  # fmt: skip
            s.add(pattern)
            s.flush()
            s.add(
                PatternMember(
                    pattern_id=pattern.id, item_key=f"report:{pattern.id}", account_id="acct_pay_2", at=h(26)
                )
            )
            kept = pattern.id
    report = Coverage(vigil.db, vigil.ctx.config, vigil.clock).report(SINCE, MONDAY, "pattern")
    found = next(f for f in report.findings if f.account_id == "acct_pay_2")
    assert (found.source, found.source_ref, found.delay_hours) == ("pattern", f"PAT-{kept}", 4.0)
    assert found.pattern_ref == f"PAT-{kept}"

"""Export rows as a spreadsheet reads them, fast and without a database: times in the team's
timezone, minutes with one decimal, a case's SLA as met, missed, breached or still open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from store.cases import Case
from store.enforcement import EnforcementAction, EnforcementRequest
from store.reports import Percentiles
from workflows.reports import SlaLine
from workflows.reports.exports import ACTION_HEADER, CASE_HEADER, SLA_HEADER, action_row, case_row, sla_row

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
UNTIL = datetime(2026, 11, 24, tzinfo=UTC)


def a_case(**fields: object) -> Case:
    values: dict[str, object] = {
        "id": 7,
        "category": "host_report",
        "priority": "P2",
        "source": "channel",
        "status": "new",
        "outcome": None,
        "created_at": CREATED,
        "sla_due_at": CREATED + timedelta(hours=4),
        "claimed_by": None,
        "claimed_at": None,
        "resolved_by": None,
        "resolved_at": None,
    }
    return Case(**(values | fields))


def row_of(case: Case) -> dict[str, object]:
    return dict(zip(CASE_HEADER, case_row(case, UNTIL, BERLIN), strict=True))


def test_a_resolved_case_in_local_time_with_minutes_to_claim_and_resolve() -> None:
    row = row_of(
        a_case(
            status="resolved",
            outcome="actioned",
            claimed_by="U0ANA0001",
            claimed_at=CREATED + timedelta(minutes=5, seconds=6),
            resolved_by="U0ANA0001",
            resolved_at=CREATED + timedelta(hours=2),
        )
    )
    assert row["case"] == "CASE-7" and row["created_at"] == "2026-11-23T09:00:00+01:00"
    assert (row["minutes_to_claim"], row["minutes_to_resolve"]) == ("5.1", "120.0")
    assert (row["sla"], row["outcome"], row["resolved_at"]) == (
        "met",
        "actioned",
        "2026-11-23T11:00:00+01:00",
    )


def test_a_case_sla_is_missed_breached_or_still_open() -> None:
    late = a_case(status="resolved", resolved_at=CREATED + timedelta(hours=5))
    assert row_of(late)["sla"] == "missed"
    overdue = a_case(sla_due_at=UNTIL - timedelta(minutes=1))
    assert row_of(overdue)["sla"] == "breached"
    open_case = row_of(a_case(sla_due_at=UNTIL + timedelta(hours=1)))
    assert open_case["sla"] == "open"
    # Nothing happened yet: empty cells, never "None".
    assert [open_case[k] for k in ("outcome", "claimed_by", "claimed_at", "minutes_to_claim")] == [
        "",
        "",
        "",
        "",
    ]


def test_an_action_row_names_its_request_what_it_reverses_and_its_case() -> None:
    request = EnforcementRequest(
        id=12,
        requester="U0ANA0001",
        reason_code="fraud",
        created_at=CREATED,
        reverses_request_id=9,
        case_ref="CASE-7",
    )
    action = EnforcementAction(
        action="reinstate",
        account_id="acct_1",
        status="done",
        attempts=2,
        result_code=200,
        finished_at=CREATED + timedelta(minutes=1),
    )
    row = dict(zip(ACTION_HEADER, action_row(action, request, BERLIN), strict=True))
    assert row == {
        "request": "REQ-12",
        "action": "reinstate",
        "account_id": "acct_1",
        "status": "done",
        "requester": "U0ANA0001",
        "reason_code": "fraud",
        "requested_at": "2026-11-23T09:00:00+01:00",
        "finished_at": "2026-11-23T09:01:00+01:00",
        "attempts": 2,
        "http_status": 200,
        "reverses_request": "REQ-9",
        "case": "CASE-7",
    }
    pending = EnforcementAction(action="suspend", account_id="acct_2", status="pending", attempts=0)
    plain = EnforcementRequest(id=13, requester="U0ANA0001", reason_code="spam", created_at=CREATED)
    row = dict(zip(ACTION_HEADER, action_row(pending, plain, BERLIN), strict=True))
    assert (row["finished_at"], row["http_status"], row["reverses_request"], row["case"]) == ("", "", "", "")


def test_an_sla_row_gives_attainment_to_four_places_and_blank_when_nothing_was_due() -> None:
    line = SlaLine("P1", 3, 2, Percentiles(3, 600.0, 2430.0), Percentiles(2, 3000.0, None))
    row = dict(zip(SLA_HEADER, sla_row("2026-W47", line), strict=True))
    assert (row["week"], row["priority"], row["due"], row["met"], row["attainment"]) == (
        "2026-W47",
        "P1",
        3,
        2,
        "0.6667",
    )
    assert (row["median_minutes_to_claim"], row["p90_minutes_to_claim"]) == ("10.0", "40.5")
    assert (row["resolved"], row["median_minutes_to_resolve"], row["p90_minutes_to_resolve"]) == (
        2,
        "50.0",
        "",
    )
    idle = sla_row("2026-W47", SlaLine("P4", 0, 0, Percentiles(0, None, None), Percentiles(0, None, None)))
    assert idle[4] == "" and idle[6:8] == ["", ""]

"""The pieces of a dossier, without a database: INV ids, profile dates, timeline lines and
how linked accounts are ranked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.investigations import parse_investigation_ref
from tests.harness.world import ANALYST, MONDAY
from workflows.investigations import EnforcementRecord, InvestigationView, Profile, RuleMatch, evidence_for
from workflows.investigations.views import (
    attributes_text,
    enforcement_item,
    investigation_items,
    linked_accounts,
    rule_item,
)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("INV-12", 12), ("inv-12", 12), (" 12 ", 12), ("INV-", None), ("INV-1a", None), ("CASE-3", None)],
)
def test_investigation_ids_are_read_the_way_analysts_type_them(ref: str, expected: int | None) -> None:
    assert parse_investigation_ref(ref) == expected


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-11-01T00:00:00Z", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T01:00:00+01:00", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T00:00:00", datetime(2026, 11, 1, tzinfo=UTC)),  # no zone: the platform's UTC
        ("last week", None),
        (1_700_000_000, None),
    ],
)
def test_a_profiles_creation_date_is_read_leniently(created_at: object, expected: datetime | None) -> None:
    assert Profile("found", {"created_at": created_at}).created_at == expected
    assert Profile("unreachable").created_at is None


def test_accounts_sharing_the_most_come_first_then_by_name() -> None:
    rows = [
        ("acct_b", "device_id", "dev_1"),
        ("acct_a", "device_id", "dev_1"),
        ("acct_c", "device_id", "dev_1"),
        ("acct_c", "payment_fingerprint", "fp_1"),
    ]
    linked = linked_accounts(rows, limit=2)
    assert [(link.account_id, link.shared) for link in linked] == [
        ("acct_c", [("device_id", "dev_1"), ("payment_fingerprint", "fp_1")]),
        ("acct_a", [("device_id", "dev_1")]),
    ]


def test_timeline_lines_are_plain_text() -> None:
    assert (
        attributes_text({"country": "NG", "nested": {"x": 1}, "ip": "10.0.0.1"}) == "country=NG ip=10.0.0.1"
    )
    assert attributes_text(None) == ""
    record = EnforcementRecord(MONDAY, "suspend", "done", "REQ-4", ANALYST)
    assert enforcement_item(record).text == "suspend done REQ-4"
    assert rule_item(RuleMatch(MONDAY, "velocity-burst")).text == "rule velocity-burst matched"
    inv = InvestigationView(
        3, "INV-3", "acct_1", "closed", ANALYST, MONDAY, None, "legitimate_outlier", None, ANALYST, MONDAY,
        None, None, None,
    )  # fmt: skip
    assert [item.text for item in investigation_items(inv)] == [
        "INV-3 opened",
        "INV-3 closed: Legitimate outlier",
    ]
    assert evidence_for(inv) == "INV-3 (Vigil investigation of acct_1)"

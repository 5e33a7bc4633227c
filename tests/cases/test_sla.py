"""SLA arithmetic: when a case is fine, at risk (75% of its time gone), breached, met or
missed, and by how much."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflows.cases.views import CaseView, sla_state

START = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _view(created: datetime, due: datetime, resolved: datetime | None = None) -> CaseView:
    return CaseView(
        id=1,
        ref="CASE-1",
        channel="C",
        ts="1",
        source="channel",
        author=None,
        text="",
        category="other",
        priority="P3",
        status="resolved" if resolved else "new",
        outcome=None,
        escalations=0,
        created_at=created,
        sla_due_at=due,
        claimed_by=None,
        claimed_at=None,
        resolved_by=None,
        resolved_at=resolved,
        card_ts=None,
        permalink=None,
        source_deleted=False,
    )


def test_sla_states() -> None:
    case = _view(START, START + timedelta(hours=4))
    assert sla_state(case, START + timedelta(hours=2)).state == "ok"
    assert sla_state(case, START + timedelta(hours=3)).state == "at_risk"
    assert sla_state(case, START + timedelta(hours=5)).state == "breached"
    assert (
        sla_state(_view(START, START + timedelta(hours=4), START + timedelta(hours=1)), START).state == "met"
    )
    assert (
        sla_state(_view(START, START + timedelta(hours=4), START + timedelta(hours=6)), START).state
        == "missed"
    )


def test_the_boundaries_belong_to_the_later_state() -> None:
    case = _view(START, START + timedelta(hours=4))
    assert sla_state(case, START + timedelta(hours=3) - timedelta(seconds=1)).state == "ok"
    assert sla_state(case, START + timedelta(hours=3)).state == "at_risk"  # exactly 75%
    assert sla_state(case, START + timedelta(hours=4) - timedelta(seconds=1)).state == "at_risk"
    assert sla_state(case, START + timedelta(hours=4)).state == "breached"  # exactly due


def test_remaining_time_counts_down_and_goes_negative_once_breached() -> None:
    case = _view(START, START + timedelta(hours=1))
    assert sla_state(case, START + timedelta(minutes=20)).remaining == timedelta(minutes=40)
    assert sla_state(case, START + timedelta(minutes=90)).remaining == timedelta(minutes=-30)


def test_a_resolved_case_is_judged_at_resolution_not_now() -> None:
    met = _view(START, START + timedelta(hours=4), resolved=START + timedelta(hours=4))
    state = sla_state(met, START + timedelta(days=30))
    assert (state.state, state.remaining) == ("met", timedelta(0))  # resolved on the minute: met
    missed = sla_state(_view(START, START + timedelta(hours=1), START + timedelta(hours=3)), START)
    assert (missed.state, missed.remaining) == ("missed", timedelta(hours=-2))


def test_a_case_due_when_it_was_opened_is_breached_at_once() -> None:
    case = _view(START, START)
    assert sla_state(case, START).state == "breached"
    # Due before it was opened (an escalation's shorter SLA from the original open time).
    assert sla_state(_view(START, START - timedelta(hours=1)), START).state == "breached"

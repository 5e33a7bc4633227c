"""One gateway to the platform: the profile an analyst reads in an investigation and the
suspension the enforcement worker sends go through the same client (bot/gateways/platform.py),
with the profile on its own short deadline, and never an exception in the analyst's face."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.fakes.enforcement import FakeEnforcement
from bot.gateways.platform import HttpPlatformGateway
from tests.harness.vigil import Vigil, VigilFactory, eventually
from workflows.enforcement import ActionCall, Outcome
from workflows.investigations import NoProfiles


@pytest.fixture
def gateway(fake_enforcement: FakeEnforcement) -> Iterator[HttpPlatformGateway]:
    client = HttpPlatformGateway(fake_enforcement.url, fake_enforcement.token, profile_timeout=0.5)
    yield client
    client.close()


def test_investigations_read_profiles_through_the_enforcement_gateway(enforcing: Vigil) -> None:
    gateway = enforcing.ctx.enforcer.gateway
    assert isinstance(gateway, HttpPlatformGateway)
    assert enforcing.ctx.investigations.profiles is gateway


def test_without_a_platform_there_is_no_gateway_and_no_profile(vigil: Vigil) -> None:
    assert vigil.ctx.enforcer.gateway is None
    assert isinstance(vigil.ctx.investigations.profiles, NoProfiles)
    assert vigil.ctx.investigations.dossier("acct_1").profile.status == "not_configured"


def test_a_profile_is_found_unknown_or_unreachable(
    gateway: HttpPlatformGateway, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_host_7", state="suspended", created_at="2026-11-01T00:00:00Z")
    found = gateway.profile("acct_host_7")
    assert found.status == "found" and found.data["state"] == "suspended"
    assert found.created_at is not None and found.created_at.isoformat() == "2026-11-01T00:00:00+00:00"
    assert gateway.lookup("acct_host_7") == "suspended"  # the worker's view of the same account
    unknown = gateway.profile("acct_nobody_1")
    assert (unknown.status, unknown.detail) == ("unknown", "the platform does not know this account")
    assert gateway.lookup("acct_nobody_1") == "unknown"

    refused = HttpPlatformGateway(fake_enforcement.url, "wrong-token")
    try:
        assert (refused.profile("acct_host_7").status, refused.profile("acct_host_7").detail) == (
            "unreachable",
            "HTTP 401",
        )
    finally:
        refused.close()


def test_a_slow_platform_gives_an_unreachable_profile_not_a_stuck_analyst(
    gateway: HttpPlatformGateway, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.add("acct_host_7")
    fake_enforcement.latency = 5.0  # far past the profile's deadline (0.5 s here)
    slow = gateway.profile("acct_host_7")
    assert (slow.status, slow.detail) == ("unreachable", "timed out")


def test_a_platform_that_is_down_gives_an_unreachable_profile(
    gateway: HttpPlatformGateway, fake_enforcement: FakeEnforcement
) -> None:
    fake_enforcement.stop()
    down = gateway.profile("acct_host_7")
    assert down.status == "unreachable" and down.detail == "ConnectError"


def test_a_restarted_vigil_wires_the_same_single_gateway(
    make_vigil: VigilFactory, fake_enforcement: FakeEnforcement
) -> None:
    first, second = make_vigil(fake_enforcement), make_vigil(fake_enforcement)
    for app in (first, second):
        assert app.ctx.investigations.profiles is app.ctx.enforcer.gateway
    assert first.ctx.enforcer.gateway is not second.ctx.enforcer.gateway


def test_a_suspension_in_flight_does_not_keep_the_analyst_from_the_profile(
    fake_enforcement: FakeEnforcement,
) -> None:
    fake_enforcement.add("acct_spam_1", "acct_host_7")
    # Every enforcement connection busy: the platform holds the one suspension it was sent.
    gateway = HttpPlatformGateway(fake_enforcement.url, fake_enforcement.token, connections=1)
    fake_enforcement.hold()
    call = ActionCall(
        "acct_spam_1", "suspend", "vigil:REQ-1:acct_spam_1:suspend", "spam", "", "REQ-1", "U1", []
    )
    outcomes: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcomes.append(gateway.execute(call)))
    worker.start()
    try:
        eventually(lambda: fake_enforcement.open_calls() == 1)
        profile = gateway.profile("acct_host_7")
        assert profile.status == "found" and profile.data["id"] == "acct_host_7"
        assert not outcomes  # the suspension is still in flight
    finally:
        fake_enforcement.release()
        worker.join()
        gateway.close()
    assert outcomes[0].kind == "done"

"""Analysts act, approvers approve, admins configure; everyone else is told no, privately."""

from __future__ import annotations

from tests.harness.vigil import Vigil
from tests.harness.world import ADMIN, ANALYST, GROUP_ANALYST, LEAD, OUTSIDER
from workflows.config import Roles
from workflows.roles import Role, RoleBook


class Directory:
    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members_by_group = members
        self.lookups = 0
        self.broken = False

    def members(self, group_id: str) -> list[str]:
        self.lookups += 1
        if self.broken:
            raise RuntimeError("slack is down")
        return self.members_by_group[group_id]


def test_roles_nest_and_people_may_hold_several() -> None:
    book = RoleBook(Roles(analysts=["U0ANA0001", "U0LEAD001"], approvers=["U0LEAD001"], admins=["U0ADM0001"]))
    assert book.has("U0ANA0001", Role.analyst) and not book.has("U0ANA0001", Role.approver)
    assert book.has("U0LEAD001", Role.analyst) and book.has("U0LEAD001", Role.approver)
    assert all(book.has("U0ADM0001", role) for role in Role)
    assert not book.has("U0CX00001", Role.analyst)
    assert not book.has(None, Role.analyst)
    assert book.roles_of("U0LEAD001") == [Role.analyst, Role.approver]


def test_user_groups_are_resolved_and_cached_for_a_short_time() -> None:
    now = [0.0]
    directory = Directory({"S0TNS0001": ["U0GRP0001"]})
    book = RoleBook(Roles(analysts=["S0TNS0001"]), directory, ttl_seconds=300, monotonic=lambda: now[0])
    assert book.has("U0GRP0001", Role.analyst)
    assert book.has("U0GRP0001", Role.analyst)
    assert directory.lookups == 1
    directory.members_by_group["S0TNS0001"] = []  # removed from the group in Slack
    now[0] = 301
    assert not book.has("U0GRP0001", Role.analyst)
    assert directory.lookups == 2


def test_a_slack_outage_keeps_the_last_known_members() -> None:
    now = [0.0]
    directory = Directory({"S0TNS0001": ["U0GRP0001"]})
    book = RoleBook(Roles(analysts=["S0TNS0001"]), directory, ttl_seconds=1, monotonic=lambda: now[0])
    assert book.has("U0GRP0001", Role.analyst)
    directory.broken = True
    now[0] = 10
    assert book.has("U0GRP0001", Role.analyst)


def test_an_outsider_is_refused_ephemerally_and_nothing_runs(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "audit", user=OUTSIDER)
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "only Vigil admins" in response.json()["text"]
    assert vigil.slack.calls_of("response_url") == []


def test_an_analyst_cannot_do_what_admins_do(vigil: Vigil) -> None:
    response = vigil.send.command("/vigil", "audit", user=ANALYST)
    assert "only Vigil admins" in response.json()["text"]
    response = vigil.send.command("/vigil", "audit", user=LEAD)
    assert "only Vigil admins" in response.json()["text"]


def test_an_admin_may(vigil: Vigil) -> None:
    assert vigil.send.command("/vigil", "audit", user=ADMIN).status_code == 200
    assert "Audit log intact" in vigil.slack.wait_for("response_url")[0]["text"]


def test_group_membership_comes_from_slack(vigil: Vigil) -> None:
    vigil.send.command("/vigil", "help", user=GROUP_ANALYST)
    reply = vigil.slack.wait_for("response_url")[0]
    assert "You are: analyst" in str(reply["blocks"])
    assert vigil.slack.calls_of("usergroups.users.list")[0]["usergroup"] == "S0TNS0001"

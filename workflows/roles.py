"""Who may do what. Roles nest: an admin may do what an approver may, and an approver may
act as an analyst. Members are Slack user ids, or user group ids resolved through a
directory port (Slack's usergroups.users.list behind it) and cached for a short time."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from workflows.config import Roles

log = logging.getLogger(__name__)


class Role(enum.IntEnum):
    analyst = 1
    approver = 2
    admin = 3

    @property
    def label(self) -> str:
        return {Role.analyst: "analysts", Role.approver: "approvers", Role.admin: "admins"}[self]


# Iterating an Enum class is slow next to a tuple, and every request's role check did it
# once per role (it showed in the ack profile).
_ROLES = tuple(Role)
_AT_LEAST = {role: tuple(r for r in _ROLES if r >= role) for role in _ROLES}


class GroupDirectory(Protocol):
    def members(self, group_id: str) -> list[str]:
        """User ids in a user group; raises on failure."""
        ...


class RoleBook:
    def __init__(
        self,
        roles: Roles,
        directory: GroupDirectory | None = None,
        ttl_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._roles = roles
        self._directory = directory
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _listed(self, role: Role) -> list[str]:
        return {
            Role.analyst: self._roles.analysts,
            Role.approver: self._roles.approvers,
            Role.admin: self._roles.admins,
        }[role]

    def _group_members(self, group_id: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(group_id)
            if cached and now - cached[0] < self._ttl:
                return cached[1]
        if self._directory is None:
            return frozenset()
        try:
            members = frozenset(self._directory.members(group_id))
        except Exception:
            # A Slack hiccup must not lock the team out: keep the last known members.
            log.warning("user group lookup failed; using last known members", extra={"group": group_id})
            return cached[1] if cached else frozenset()
        with self._lock:
            self._cache[group_id] = (now, members)
        return members

    def _in(self, user_id: str, principals: Iterable[str]) -> bool:
        for principal in principals:
            if principal == user_id:
                return True
            if principal.startswith("S") and user_id in self._group_members(principal):
                return True
        return False

    def highest(self, user_id: str) -> Role | None:
        for role in (Role.admin, Role.approver, Role.analyst):
            if self._in(user_id, self._listed(role)):
                return role
        return None

    def has(self, user_id: str | None, role: Role) -> bool:
        """True when the user holds ``role`` or a role above it."""
        if not user_id:
            return False
        return any(self._in(user_id, self._listed(r)) for r in _AT_LEAST[role])

    def is_engineer(self, user_id: str | None) -> bool:
        """In ``roles.engineers``, or an admin (admins may do everything)."""
        if not user_id:
            return False
        return self._in(user_id, self._roles.engineers) or self.has(user_id, Role.admin)

    def roles_of(self, user_id: str) -> list[Role]:
        return [r for r in _ROLES if self.has(user_id, r)]

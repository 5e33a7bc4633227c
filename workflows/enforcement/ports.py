"""What enforcement needs from outside, by role: the platform's enforcement API (a gateway),
a way to tell the team (a notifier), and rules that look at a request as it is written.

Implementations are named by what they are: bot/gateways/platform.py's HttpPlatformGateway,
commands/enforcement.py's SlackEnforcementNotifier, the playbooks' PlaybookRequestRules.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from store.enforcement import EnforcementRequest
from workflows.enforcement.views import ActionView, RequestView, Summary
from workflows.ports import MessageRef

Kind = Literal["done", "already", "permanent", "transient"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status: int | None  # HTTP status; None for a timeout or connection error
    detail: str = ""
    retry_after: float | None = None  # seconds, from Retry-After


@dataclass(frozen=True)
class ActionCall:
    account_id: str
    action: str
    idempotency_key: str
    reason_code: str
    note: str
    request_ref: str
    actor: str
    approved_by: list[str]
    # The statement of reasons and how to appeal (docs/dsa.md); None when DSA is not configured.
    statement: dict[str, Any] | None = None


class EnforcementGateway(Protocol):
    """The platform's enforcement API. ``execute`` makes one attempt and classifies it."""

    def execute(self, call: ActionCall) -> Outcome: ...

    def lookup(self, account_id: str) -> str | None:
        """The account's state ("active", "suspended", …), "unknown" for a 404, None if the API
        cannot tell right now."""
        ...


@runtime_checkable
class ConcurrentEnforcementGateway(EnforcementGateway, Protocol):
    """A gateway that runs calls itself (an event loop, for one): the worker hands it each
    call instead of a thread of its own waiting on ``execute``."""

    def submit(self, call: ActionCall, ready: Callable[[], bool]) -> Future[Outcome | None]:
        """Start ``call`` when the gateway has room, if ``ready()`` still holds then (the
        future's result is None if not). At most the gateway's connections run at once.
        Cancelling the future stops a call not started yet; one under way runs to its end.
        The future never raises: failures are transient Outcomes."""
        ...


class EnforcementNotifier(Protocol):
    """Vigil's words about enforcement, back to the team (Slack renders them)."""

    def post_card(self, request: RequestView) -> MessageRef: ...

    def update_card(self, request: RequestView) -> None: ...

    def requester_link(self, request: RequestView, checked_duplicates: list[str]) -> None: ...

    def decision(self, request: RequestView, by: str, final: bool) -> None: ...

    def account_results(self, request: RequestView, results: list[ActionView]) -> None: ...

    def progress(self, request: RequestView) -> str | None:
        """Post or update the progress message (request.progress_ts); return its ts."""
        ...

    def summary(self, summary: Summary) -> None: ...

    def hand_off(self, request: RequestView, accounts: list[str]) -> None: ...

    def manual_done(self, request: RequestView, engineer: str, count: int) -> None: ...

    def retrying(self, request: RequestView, by: str, count: int) -> None: ...


class RequestRuleHook(Protocol):
    """Playbook rules for trigger ``enforcement.requested``, run in the request's transaction:
    they may ask for one more approval or add a hint to the card, never decide anything."""

    def apply(self, session: Session, request: EnforcementRequest) -> Any: ...


class DecisionHook(Protocol):
    """Statements of reasons (workflows/decisions): drafted in the request's transaction,
    frozen in the final approval's, and the notice each enforcement call carries."""

    def drafted(self, session: Session, request: EnforcementRequest, facts: str | None = None) -> None: ...

    def approved(self, session: Session, request_id: int) -> None: ...

    def withdrawn(self, session: Session, request_id: int) -> None:
        """The request was rejected or expired: nothing is restricted, its drafts are void."""
        ...

    def notices_for(
        self, session: Session, keys: list[tuple[int, str]]
    ) -> dict[tuple[int, str], dict[str, Any]]: ...

    def finished(self, session: Session, results: list[tuple[int, str, str, str]]) -> None:
        """Actions with a final result, in the transaction that records them:
        (request id, account id, action, status)."""
        ...

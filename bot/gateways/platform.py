"""The platform's HTTP API (httpx), the one gateway Vigil calls it through: the enforcement
gateway port (``execute`` a suspension or reinstatement, ``lookup`` an account's state) and
the investigations' account profiles (``profile``), all from ``{VIGIL_ENFORCEMENT_URL}``.

One attempt per ``execute``; the enforcement worker owns retries and backoff.
Classification follows the contract in DESIGN.md: 2xx done (a replay for a repeated key
too), 409 already in that state, 404 and 400/422 permanent, 429/5xx/timeouts transient. A 409
whose body says ``{"error": "idempotency_key_in_use"}`` is the platform saying the first call
with this key is still being processed (as in the IETF Idempotency-Key draft): transient, the
account is done only when the platform says so.

Every call has an overall deadline. httpx's timeouts bound each read, so a response that
trickles in a byte at a time outlives them; the call runs on an event loop under
``asyncio.timeout``, which cancels it (and closes its connection) when the deadline passes.
A profile has its own short deadline and connections: an analyst waits for it, and an
investigation is shown without it rather than late.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import itertools
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from workflows.enforcement import ActionCall, Outcome
from workflows.investigations import Profile
from workflows.jobs import PermanentJobError
from workflows.metrics import ENFORCEMENT_CALL_SECONDS

log = logging.getLogger(__name__)

T = TypeVar("T")
KEY_IN_USE = "idempotency_key_in_use"
PROFILE_TIMEOUT = 5.0
PROFILE_CONNECTIONS = 4
SHARD = 4  # connections per httpx pool (see HttpPlatformGateway.__init__)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def _error(response: httpx.Response) -> tuple[str, str]:
    """The body's error code (its ``error`` field, exactly) and a short detail for people."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if isinstance(body, dict):
        code = body.get("error")
        return (code if isinstance(code, str) else ""), str(code or body.get("message") or "")[:200]
    return "", ""


def classify(response: httpx.Response) -> Outcome:
    """One answer of the enforcement API as an Outcome (the contract in DESIGN.md)."""
    status = response.status_code
    code, detail = _error(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if 200 <= status < 300:
        return Outcome("done", status)
    if status == 409 and code == KEY_IN_USE:
        # The first call with this key is still open at the platform: not done yet.
        return Outcome("transient", status, "idempotency key in use (a call is still open)", retry_after)
    if status == 409:
        return Outcome("already", status, detail)
    if status == 404:
        return Outcome("permanent", status, detail or "unknown account")
    if status in (400, 422):
        return Outcome("permanent", status, detail or "rejected")
    if status == 429 or status >= 500:
        return Outcome("transient", status, detail, retry_after)
    # 401/403 and anything unexpected: a configuration problem someone must fix, then retry.
    log.warning("enforcement API answered unexpectedly", extra={"status": status})
    return Outcome("transient", status, detail or f"HTTP {status}")


class OutcomeNotDelivered(ConnectionError):
    """An outcome the platform could not take now (429, 5xx); ``retry_after`` in seconds."""

    retry_after: float | None = None


class DeadlineExceeded(Exception):
    """The call did not finish within its overall deadline."""


class HttpPlatformGateway:
    """One connection pool to the platform, serving the enforcement worker
    (workflows.enforcement's ConcurrentEnforcementGateway) and investigations (AccountProfiles)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        connections: int = 16,
        profile_timeout: float = PROFILE_TIMEOUT,
    ):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.deadline = timeout
        self.profile_deadline = profile_timeout
        self.connections = connections
        self._slots: asyncio.Semaphore | None = None
        # Shards of at most SHARD connections, taken in turn: httpcore scans every connection
        # of a pool on each request and each response (has_expired, through anyio's attribute
        # lookup), so one pool's cost per call grows with its size; at 16 connections that scan
        # was a sixth of a bulk suspension's CPU (docs/benchmarks.md).
        sizes = [SHARD] * (connections // SHARD) + ([connections % SHARD] if connections % SHARD else [])
        self.clients = [
            httpx.AsyncClient(
                base_url=base_url.rstrip("/"),
                headers=headers,
                timeout=timeout,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            )
            for size in sizes or [1]
        ]
        self._turn = itertools.count()
        # Profiles have connections of their own: an analyst opening an investigation never
        # queues behind a bulk suspension that keeps every enforcement connection busy.
        self.profile_client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=profile_timeout,
            limits=httpx.Limits(
                max_connections=PROFILE_CONNECTIONS, max_keepalive_connections=PROFILE_CONNECTIONS
            ),
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.AsyncClient:
        """The next shard's client: calls spread evenly over the pools."""
        return self.clients[next(self._turn) % len(self.clients)]

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        """One loop thread per gateway, started on first use (the CLI mostly never calls)."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="vigil-platform-http", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _within_deadline(self, request: Coroutine[Any, Any, T], deadline: float | None = None) -> T:
        seconds = self.deadline if deadline is None else deadline

        async def bounded() -> T:
            try:
                async with asyncio.timeout(seconds):
                    return await request
            except TimeoutError as exc:
                raise DeadlineExceeded from exc

        future = asyncio.run_coroutine_threadsafe(bounded(), self._event_loop())
        try:
            # The loop enforces the deadline; this wait only guards against a stuck loop.
            return future.result(timeout=seconds + 5)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise DeadlineExceeded from exc

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        for client in (*self.clients, self.profile_client):
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    def execute(self, call: ActionCall) -> Outcome:
        """One call, waited for: the same way in as ``submit``, so both classify alike."""
        future = self.submit(call, lambda: True)
        try:
            # The loop enforces the deadline; this wait only guards against a stuck loop.
            outcome = future.result(timeout=self.deadline + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return Outcome("transient", None, "timed out")
        assert outcome is not None  # ready() said yes
        return outcome

    def submit(
        self, call: ActionCall, ready: Callable[[], bool]
    ) -> concurrent.futures.Future[Outcome | None]:
        """The enforcement worker's way in (ConcurrentEnforcementGateway): the call starts on
        the loop when one of the connections is free and ``ready()`` still holds then. No
        thread waits on it: one hand-off per call instead of two, and no pool of threads
        taking the GIL in turn (docs/benchmarks.md). Cancelling the future stops a call that
        has not started; one under way runs to its end, as DESIGN.md asks of a stop."""
        future: concurrent.futures.Future[Outcome | None] = concurrent.futures.Future()
        loop = self._event_loop()

        async def run() -> None:
            async with self._call_slots():
                if not future.set_running_or_notify_cancel():
                    return  # cancelled while it waited for a connection: never started
                if not ready():
                    future.set_result(None)
                    return
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(self.deadline):
                        response = await self._post_action(call)
                    outcome = classify(response)
                except (httpx.TimeoutException, TimeoutError):
                    outcome = Outcome("transient", None, "timed out")
                except httpx.HTTPError as exc:
                    outcome = Outcome("transient", None, f"{type(exc).__name__}")
                except Exception as exc:  # a bug or an unexpected library error: retried, never lost
                    log.exception("enforcement gateway raised", extra={"account": call.account_id})
                    outcome = Outcome("transient", None, f"{type(exc).__name__}: {exc}")
                finally:
                    ENFORCEMENT_CALL_SECONDS.observe(time.perf_counter() - started)
                future.set_result(outcome)

        loop.call_soon_threadsafe(lambda: loop.create_task(run()))
        return future

    def _call_slots(self) -> asyncio.Semaphore:
        # Calls wait here, not in httpx's pool, so waiting for a connection never eats into a
        # call's deadline. Made on first use, inside the loop.
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.connections)
        return self._slots

    def _post_action(self, call: ActionCall) -> Coroutine[Any, Any, httpx.Response]:
        body = {
            "reason_code": call.reason_code,
            "note": call.note,
            "request_id": call.request_ref,
            "actor": call.actor,
            "approved_by": call.approved_by,
        }
        if call.statement is not None:
            body["statement"] = call.statement  # docs/dsa.md: the notice the platform shows the user
        return self.client.post(
            f"/accounts/{call.account_id}/{call.action}",
            json=body,
            headers={"Idempotency-Key": call.idempotency_key},
        )

    def appeal_outcome(self, appeal_id: str, outcome: str, reason: str) -> None:
        """``POST /appeals/{appeal_id}/outcome`` (decisions' AppealOutcomes port)."""
        body = {"kind": "appeal", "outcome": outcome, "reason": reason}
        self._outcome(appeal_id, body, f"vigil:appeal:{appeal_id}", "appeal")

    def notice_outcome(self, report_id: str, body: dict[str, Any]) -> None:
        """A reporter told what became of their report (Art. 16(5)): the same endpoint, with the
        report's id at the platform and ``"kind": "notice"`` in the body."""
        self._outcome(report_id, body, f"vigil:notice:{report_id}", "notice")

    def _outcome(self, id_: str, body: dict[str, Any], key: str, what: str) -> None:
        """2xx and 409 (already told) are done; other 4xx are permanent; the rest raise to be
        retried (the job runner's backoff, honouring Retry-After)."""
        try:
            response = self._within_deadline(
                self.client.post(
                    f"/appeals/{quote(id_, safe='')}/outcome", json=body, headers={"Idempotency-Key": key}
                )
            )
        except (httpx.HTTPError, DeadlineExceeded) as exc:
            raise ConnectionError(f"{what} outcome not delivered: {type(exc).__name__}") from exc
        status = response.status_code
        if 200 <= status < 300 or status == 409:
            return
        if 400 <= status < 500 and status != 429:
            detail = _error(response)[1]
            raise PermanentJobError(f"platform refused the {what} outcome: HTTP {status} {detail}")
        error = OutcomeNotDelivered(f"{what} outcome not delivered: HTTP {status}")
        error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise error

    def lookup(self, account_id: str) -> str | None:
        try:
            response = self._within_deadline(self.client.get(f"/accounts/{account_id}"))
        except (httpx.HTTPError, DeadlineExceeded):
            return None
        if response.status_code == 404:
            return "unknown"
        if response.status_code != 200:
            return None
        try:
            state = response.json().get("state")
        except (ValueError, AttributeError):
            return None
        return str(state) if state else None

    def profile(self, account_id: str) -> Profile:
        """``GET /accounts/{id}`` for an investigation. Never raises: an investigation with an
        unreachable profile is still an investigation."""
        try:
            response = self._within_deadline(
                self.profile_client.get(f"/accounts/{account_id}"),
                self.profile_deadline,
            )
        except (httpx.TimeoutException, DeadlineExceeded):
            return Profile("unreachable", detail="timed out")
        except httpx.HTTPError as exc:
            return Profile("unreachable", detail=type(exc).__name__)
        if response.status_code == 404:
            return Profile("unknown", detail="the platform does not know this account")
        if response.status_code != 200:
            return Profile("unreachable", detail=f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            return Profile("unreachable", detail="the answer was not JSON")
        if not isinstance(data, dict):
            return Profile("unreachable", detail="the answer was not a JSON object")
        return Profile("found", data=data)

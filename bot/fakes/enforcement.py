"""A local fake of the platform's enforcement API (DESIGN.md contract) over real HTTP.

Accounts have a state; calls are recorded with their Idempotency-Key once answered; faults
are scripted per account (a list of statuses served before the real behaviour) or for
everything (``outage``); ``latency`` slows every call, for benchmarks.

Slow platforms, for the deadline and lease stories: ``hold()`` keeps every call open (acted
on only when ``release()`` lets it go, like a platform stuck before it commits), ``trickle``
acts at once but sends the answer's body a byte at a time. As the contract says, a call whose
Idempotency-Key is still being processed gets ``409 {"error": "idempotency_key_in_use"}``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class EnforcementCall:
    action: str  # suspend, reinstate, get
    account_id: str
    key: str | None
    body: dict[str, Any]
    status: int


class FakeEnforcement:
    def __init__(self, token: str = "enf-test-token", latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency
        self.accounts: dict[str, dict[str, Any]] = {}
        self.calls: list[EnforcementCall] = []
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.outage: int | None = None  # an HTTP status served to every call while set
        self.trickle: float = 0.0  # seconds between the bytes of an answer's body
        self.arrived: list[tuple[str, str, str | None]] = []  # (action, account, key) as calls come in
        # POST /appeals/{id}/outcome, by the body's kind: appeals (no kind, or "appeal"), and
        # notices (a reporter told the decision on their report, keyed by the report's id).
        self.appeal_outcomes: list[tuple[str, dict[str, Any]]] = []
        self.notice_outcomes: list[tuple[str, dict[str, Any]]] = []
        self.outcome_keys: list[str | None] = []  # the Idempotency-Key of every outcome answered
        self.outcome_script: list[int] = []  # statuses served to the next outcome calls
        self._gate = threading.Event()
        self._gate.set()
        self._open: dict[str, int] = {}  # Idempotency-Keys being processed right now
        self._replays: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeEnforcement:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self) -> None:
        """Keep every call that arrives from now on open until ``release()``."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def open_calls(self, key: str | None = None) -> int:
        """Calls being processed right now (for one Idempotency-Key, or all)."""
        with self._lock:
            return self._open.get(key, 0) if key is not None else sum(self._open.values())

    def arrivals(self, key: str) -> int:
        with self._lock:
            return sum(1 for _, _, k in self.arrived if k == key)

    def add(self, *account_ids: str, state: str = "active", **profile: Any) -> None:
        for account_id in account_ids:
            self.accounts[account_id] = {"id": account_id, "state": state, **profile}

    def then(
        self, account_id: str, *statuses: int, retry_after: str | None = None, error: str | None = None
    ) -> None:
        """Serve these statuses to the next calls for ``account_id``, then behave normally;
        ``error`` is the body's error text (default "scripted <status>")."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        if error is not None:
            headers["X-Fake-Error"] = error
        self.script.setdefault(account_id, []).extend((s, headers) for s in statuses)

    def outcomes_then(self, *statuses: int) -> None:
        """Serve these statuses to the next outcome calls (appeals or notices), then take them."""
        self.outcome_script.extend(statuses)

    def calls_for(self, account_id: str, action: str | None = None) -> list[EnforcementCall]:
        with self._lock:
            return [
                c for c in self.calls if c.account_id == account_id and (action is None or c.action == action)
            ]

    def _act(
        self, action: str, account_id: str, key: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            if self.outage is not None:
                return self.outage, {"error": "unavailable"}, {}
            scripted = self.script.get(account_id)
            if scripted:
                status, headers = scripted.pop(0)
                headers = dict(headers)
                error = headers.pop("X-Fake-Error", f"scripted {status}")
                return status, {"error": error}, headers
            if key and key in self._replays:
                status, payload = self._replays[key]
                return status, {**payload, "replayed": True}, {}
            account = self.accounts.get(account_id)
            if account is None:
                return 404, {"error": "unknown account"}, {}
            if not body.get("reason_code"):
                return 422, {"error": "reason_code is required"}, {}
            target = "suspended" if action == "suspend" else "active"
            if account["state"] == target:
                return 409, {"error": f"already {target}"}, {}
            account["state"] = target
            result = (200, {"account_id": account_id, "state": target})
            if key:
                self._replays[key] = result
            return result[0], result[1], {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY a keep-alive client
            # waits for the delayed ACK (~40 ms) on every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return None

            def _send(
                self,
                status: int,
                body: dict[str, Any],
                headers: dict[str, str] | None = None,
                trickle: float = 0.0,
            ) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not trickle:
                    self.wfile.write(payload)
                    return
                self.wfile.flush()
                for i in range(len(payload)):
                    time.sleep(trickle)
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, {"error": "bad token"})
                    return False
                return True

            def do_GET(self) -> None:
                if fake.latency:
                    time.sleep(fake.latency)
                if not self._authorized():
                    return
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or parts[0] != "accounts":
                    self._send(404, {"error": "not found"})
                    return
                account = fake.accounts.get(parts[1])
                with fake._lock:
                    fake.calls.append(EnforcementCall("get", parts[1], None, {}, 200 if account else 404))
                self._send(200, account) if account else self._send(404, {"error": "unknown account"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if fake.latency:
                    time.sleep(fake.latency)
                if not self._authorized():
                    return
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "appeals" and parts[2] == "outcome":
                    body = json.loads(raw or b"{}")
                    with fake._lock:
                        scripted = fake.outcome_script.pop(0) if fake.outcome_script else None
                        if scripted is None:
                            notice = body.get("kind") == "notice"
                            told = fake.notice_outcomes if notice else fake.appeal_outcomes
                            told.append((unquote(parts[1]), body))
                            fake.outcome_keys.append(self.headers.get("Idempotency-Key"))
                    if scripted is not None:
                        self._send(scripted, {"error": f"scripted {scripted}"})
                        return
                    self._send(200, {"ok": True})
                    return
                if len(parts) != 3 or parts[0] != "accounts" or parts[2] not in ("suspend", "reinstate"):
                    self._send(404, {"error": "not found"})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": "bad json"})
                    return
                key = self.headers.get("Idempotency-Key")
                with fake._lock:
                    fake.arrived.append((parts[2], parts[1], key))
                    in_use = key is not None and fake._open.get(key, 0) > 0
                    if in_use:
                        fake.calls.append(EnforcementCall(parts[2], parts[1], key, body, 409))
                    elif key is not None:
                        fake._open[key] = 1
                if in_use:
                    self._send(409, {"error": "idempotency_key_in_use"}, {"Retry-After": "1"})
                    return
                status = 0
                try:
                    fake._gate.wait(60)
                    status, payload, headers = fake._act(parts[2], parts[1], key, body)
                    self._send(status, payload, headers, trickle=fake.trickle)
                except OSError:  # Vigil hung up (its deadline passed); the platform acted anyway
                    pass
                finally:
                    with fake._lock:
                        if key is not None:
                            fake._open.pop(key, None)
                        fake.calls.append(EnforcementCall(parts[2], parts[1], key, body, status))

        return Handler

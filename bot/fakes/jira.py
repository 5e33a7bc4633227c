"""A local fake of Jira's REST API v2 (the parts the hand-off uses) over real HTTP.

Issues are created, searched by label and read for their status; ``move(key, status)`` is a
person moving the ticket. Faults are scripted: ``script`` is a list of (status, headers)
served to the next calls before the real behaviour (a 429 with Retry-After, a 503),
``required`` names custom fields whose absence is a 400, as Jira says it."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeIssue:
    key: str
    fields: dict[str, Any]
    status: str = "To Do"


@dataclass
class FakeJira:
    email: str = "vigil@example.com"
    token: str = "jira-test-token"
    project: str = "ENG"
    issues: dict[str, FakeIssue] = field(default_factory=dict)
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status answered
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    required: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeJira:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def move(self, key: str, status: str) -> None:
        with self._lock:
            self.issues[key].status = status

    def created(self) -> list[FakeIssue]:
        with self._lock:
            return list(self.issues.values())

    # --- the API -------------------------------------------------------------------------
    def _authorized(self, header: str | None) -> bool:
        basic = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return header in (f"Basic {basic}", f"Bearer {self.token}")

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, dict[str, str], Any]:
        if not self._authorized(auth):
            return 401, {}, {"errorMessages": ["You are not authenticated."]}
        with self._lock:
            if self.script:
                status, headers = self.script.pop(0)
                return status, headers, {"errorMessages": [f"scripted {status}"]}
            if method == "POST" and path == "/rest/api/2/issue":
                fields = (body or {}).get("fields") or {}
                missing = {f: "Field is required." for f in self.required if f not in fields}
                if (fields.get("project") or {}).get("key") != self.project:
                    missing["project"] = "valid project is required"
                if missing:
                    return 400, {}, {"errorMessages": [], "errors": missing}
                key = f"{self.project}-{len(self.issues) + 1}"
                self.issues[key] = FakeIssue(key, fields)
                return (
                    201,
                    {},
                    {"id": str(len(self.issues)), "key": key, "self": f"{self.url}/rest/api/2/issue/{key}"},
                )
            if method == "GET" and path == "/rest/api/2/search":
                jql = (query.get("jql") or [""])[0]
                label = jql.split('"')[1] if '"' in jql else ""
                found = [i for i in self.issues.values() if label in (i.fields.get("labels") or [])]
                return (
                    200,
                    {},
                    {"issues": [{"key": i.key, "fields": {"status": {"name": i.status}}} for i in found]},
                )
            if method == "GET" and path.startswith("/rest/api/2/issue/"):
                issue = self.issues.get(path.rsplit("/", 1)[1])
                if issue is None:
                    return 404, {}, {"errorMessages": ["Issue does not exist"]}
                return 200, {}, {"key": issue.key, "fields": {"status": {"name": issue.status}}}
        return 404, {}, {"errorMessages": ["no such resource"]}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, headers, answer = fake._answer(
                    method, parsed.path, parse_qs(parsed.query), body, self.headers.get("Authorization")
                )
                with fake._lock:
                    fake.calls.append((method, parsed.path, status))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler

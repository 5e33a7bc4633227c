"""A local fake of Confluence's content API (find by title, create, update in place) over
real HTTP, for tests and the demo."""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakePage:
    id: str
    space: str
    title: str
    body: str
    version: int = 1
    attachments: dict[str, int] = field(default_factory=dict)  # file name → versions uploaded


@dataclass
class FakeConfluence:
    email: str = "vigil@example.com"
    token: str = "jira-test-token"
    pages: dict[str, FakePage] = field(default_factory=dict)
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeConfluence:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, Any]:
        basic = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if auth not in (f"Basic {basic}", f"Bearer {self.token}"):
            return 401, {"message": "unauthorized"}
        with self._lock:
            if method == "GET" and path == "/rest/api/content":
                space, title = (query.get("spaceKey") or [""])[0], (query.get("title") or [""])[0]
                found = [p for p in self.pages.values() if p.space == space and p.title == title]
                return 200, {
                    "results": [
                        {"id": p.id, "title": p.title, "version": {"number": p.version}} for p in found
                    ]
                }
            if method == "POST" and path == "/rest/api/content":
                page = FakePage(
                    str(1000 + len(self.pages)),
                    body["space"]["key"],
                    body["title"],
                    body["body"]["storage"]["value"],
                )
                self.pages[page.id] = page
                return 200, {"id": page.id, "version": {"number": 1}}
            if method == "PUT" and path.endswith("/child/attachment"):
                page = self.pages.get(path.split("/")[4])
                name = body if isinstance(body, str) else None
                if page is None or not name:
                    return 400, {"message": "no page or no file"}
                page.attachments[name] = page.attachments.get(name, 0) + 1
                return 200, {"results": [{"title": name}]}
            if method == "PUT" and path.startswith("/rest/api/content/"):
                page = self.pages.get(path.rsplit("/", 1)[1])
                if page is None:
                    return 404, {"message": "no such page"}
                if body["version"]["number"] != page.version + 1:
                    return 409, {"message": "version conflict"}
                page.version, page.body, page.title = (
                    body["version"]["number"],
                    body["body"]["storage"]["value"],
                    body["title"],
                )
                return 200, {"id": page.id, "version": {"number": page.version}}
        return 404, {"message": "no such resource"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any
                if "multipart/form-data" in (self.headers.get("Content-Type") or ""):
                    # Only the uploaded file's name matters to the tests.
                    found = re.search(rb'filename="([^"]+)"', raw)
                    body = found.group(1).decode() if found else None
                else:
                    body = json.loads(raw) if raw else None
                status, answer = fake._answer(
                    method,
                    parsed.path,
                    parse_qs(parsed.query),
                    body,
                    self.headers.get("Authorization"),
                )
                with fake._lock:
                    fake.calls.append((method, parsed.path, status))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

        return Handler

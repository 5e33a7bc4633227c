"""A local OpenAI-compatible endpoint (``POST /v1/chat/completions``) over real HTTP.

It answers by a responder (a function of the task and the request) or by a scripted mode:
``answer`` (a valid JSON object built from the requested schema), ``garbage`` (text that is
not JSON), ``wrong_shape`` (JSON of another shape), ``timeout`` (holds the request past the
client's timeout), ``429`` and ``500``. Every request is kept (``requests``) so a test can
prove what reached the model. No key is needed: any bearer token is accepted.

    fake = FakeOpenAI().start()      # OPENAI_BASE_URL=fake.url, OPENAI_API_KEY=anything
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[["SeenRequest"], dict[str, Any]]


@dataclass
class SeenRequest:
    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    answered: str = ""

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def schema(self) -> dict[str, Any]:
        fmt = self.body.get("response_format") or {}
        return (fmt.get("json_schema") or {}).get("schema") or {}


def example_of(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A plausible value of a JSON schema (the fake's default answer)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_of(defs[schema["$ref"].split("/")[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_of(schema[key][0], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {name: example_of(sub, defs) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), defs)]
    if kind in ("number", "integer"):
        return schema.get("minimum", 0.5 if kind == "number" else 1)
    if kind == "boolean":
        return True
    return "An example answer from the fake model."


@dataclass
class FakeOpenAI:
    mode: str = "answer"
    responder: Responder | None = None
    hold_seconds: float = 5.0  # how long ``timeout`` keeps a request open
    tokens_in: int = 120
    tokens_out: int = 40
    requests: list[SeenRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeOpenAI:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reply(self, seen: SeenRequest) -> tuple[int, dict[str, Any]]:
        if self.mode == "timeout":
            time.sleep(self.hold_seconds)
        if self.mode in ("429", "500"):
            return int(self.mode), {"error": {"message": f"scripted {self.mode}", "type": "fake"}}
        if self.mode == "garbage":
            content = "Sure! Here is what I think: the case looks bad {not json"
        elif self.mode == "wrong_shape":
            content = json.dumps({"unexpected": ["shape"]})
        else:
            value = self.responder(seen) if self.responder else example_of(seen.schema)
            content = json.dumps(value)
        seen.answered = content
        return 200, {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": seen.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": self.tokens_in,
                "completion_tokens": self.tokens_out,
                "total_tokens": self.tokens_in + self.tokens_out,
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if not re.fullmatch(r"/v1/chat/completions/?", self.path.split("?")[0]):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "invalid JSON"}})
                    return
                seen = SeenRequest(str(body.get("model", "")), list(body.get("messages") or []), body)
                fake.requests.append(seen)
                status, answer = fake.reply(seen)
                # A client that gave up (its timeout) has closed the connection.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(status, answer)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

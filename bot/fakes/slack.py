"""A local fake of Slack's Web API over real HTTP, recording every call (as Bolt's own
suite does). Point SLACK_API_URL at ``fake.api_url``; response_url posts land here too."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.slack_scopes import REQUIRED_SCOPES

JSON_FIELDS = {"blocks", "attachments", "view", "metadata", "files", "channel_id"}
BOT_USER = "U0VIGIL01"
BOT_ID = "B0VIGIL01"
TEAM = "T0TEAM001"
SCOPES = ",".join(sorted(REQUIRED_SCOPES))  # an app installed from manifest.yml


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.non_member_channels: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}  # a file name served as a 302 to this URL
        self.file_infos: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}  # bytes posted to an upload_url, by file id
        # What Vigil posted, by channel in posting order, as conversations.history and
        # conversations.replies give it back (metadata only when include_all_metadata is set).
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.scopes = SCOPES
        self._failures: dict[str, list[Failure]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | bytes]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ---------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int = 200,
        error: str = "internal_error",
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (HTTP status, or ok=false with ``error``)."""
        body = {"ok": False, "error": error}
        with self._lock:
            self._failures.setdefault(method, []).append(Failure(status, body, headers or {}, times))

    def user_file(self, name: str, content: bytes) -> dict[str, Any]:
        """A file someone uploaded (file_input): served at url_private_download, described by
        files.info. Returns the file as a view_submission's state gives it."""
        file_id = f"F{next(self._ts):08d}"
        self.files[name] = content
        info = {
            "id": file_id,
            "name": name,
            "size": len(content),
            "url_private_download": f"{self.base_url}/files/{name}",
        }
        self.file_infos[file_id] = info
        return dict(info)

    def on(self, method: str, handler: Callable[[dict[str, Any]], dict[str, Any] | bytes]) -> None:
        """Answer ``method`` with ``handler(args)``: a JSON object, or raw bytes (an odd answer)."""
        self._handlers[method] = handler

    # --- reading -------------------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, where: Callable[[Call], bool] | None = None, timeout: float = 20.0, count: int = 1
    ) -> list[Call]:
        """Block until ``count`` calls of ``method`` (matching ``where``) were made."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} x {method}; Slack saw {seen}")
                self._lock.wait(remaining)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    def posted(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Messages Vigil posted in a channel (top level) or in one thread, oldest first."""
        with self._lock:
            if thread_ts is None:
                return [dict(m) for m in self.messages.get(channel, []) if "thread_ts" not in m]
            return [dict(m) for m in self.messages.get(channel, []) if m.get("thread_ts") == thread_ts]

    # --- the messages Vigil posted ---------------------------------------------------------
    def _store_post(self, args: dict[str, Any], ts: str) -> None:
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": "A0VIGIL01",
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        with self._lock:
            self.messages.setdefault(str(args.get("channel")), []).append(message)

    def _store_update(self, args: dict[str, Any]) -> None:
        with self._lock:
            for message in self.messages.get(str(args.get("channel")), []):
                if message["ts"] == args.get("ts"):
                    message.update({k: args[k] for k in ("text", "blocks") if k in args})
                    if args.get("metadata"):  # Slack keeps the metadata an update leaves out
                        message["metadata"] = args["metadata"]

    def _read(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, limit = str(args.get("channel")), int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            stored = [dict(m) for m in self.messages.get(channel, [])]
        if method == "conversations.replies":
            thread = str(args.get("ts"))
            found = [m for m in stored if m["ts"] == thread or m.get("thread_ts") == thread][:limit]
        else:  # history: top-level messages, newest first
            found = [m for m in reversed(stored) if "thread_ts" not in m]
            if args.get("latest"):
                found = [m for m in found if float(m["ts"]) <= float(args["latest"])]
            if args.get("oldest"):
                found = [m for m in found if float(m["ts"]) >= float(args["oldest"])]
            found = found[:limit]
        if not with_metadata:
            for m in found:
                m.pop("metadata", None)
        return {"ok": True, "messages": found, "has_more": False}

    # --- serving ---------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any] | bytes:
        if method in self._handlers:
            return self._handlers[method](args)
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://vigil-test.slack.com/",
                "team": "Test",
                "user": "vigil",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1764000000.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self._store_post(args, ts)
            else:
                self._store_update(args)
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1764000000.{next(self._ts):06d}"}
        if method == "chat.getPermalink":
            channel, ts = args.get("channel"), str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://vigil-test.slack.com/archives/{channel}/p{ts}",
            }
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = args.get("view") or {}
            return {"ok": True, "view": {**view, "id": f"V{next(self._ts):08d}", "hash": "h"}}
        if method == "files.info":
            info = self.file_infos.get(args.get("file", ""))
            return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        if method == "files.getUploadURLExternal":  # files_upload_v2, step 1
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":  # step 3
            files = args.get("files") or []
            return {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files if isinstance(f, dict)],
            }
        if method in ("conversations.history", "conversations.replies"):
            return self._read(method, args)
        if method == "usergroups.users.list":
            group = args.get("usergroup")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "conversations.info":
            channel = args.get("channel")
            info = self.channels.get(channel, {"id": channel, "name": str(channel).lower()})
            return {"ok": True, "channel": {**info, "is_member": channel not in self.non_member_channels}}
        if method == "users.info":
            user = args.get("user")
            return {"ok": True, "user": {"id": user, "name": str(user).lower(), "tz": "UTC"}}
        return {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes; without TCP_NODELAY a keep-alive client
            # waits for the delayed ACK (~40 ms) on every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                return None

            def _send(
                self, status: int, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
            ) -> None:
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _args(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                if "application/json" in ctype:
                    return json.loads(raw or b"{}")
                if "multipart/form-data" in ctype:
                    return {"_raw": raw}
                args: dict[str, Any] = {
                    k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()
                }
                for key in JSON_FIELDS & set(args):
                    with contextlib.suppress(ValueError):
                        args[key] = json.loads(args[key])
                return args

            def do_GET(self) -> None:
                location = fake.redirects.get(self.path.removeprefix("/files/"))
                if self.path.startswith("/files/") and location:
                    fake._record(
                        Call("files.redirect", {"path": self.path}, self.headers.get("Authorization"))
                    )
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/files/"):
                    content = fake.files.get(self.path.removeprefix("/files/"))
                    if content is None:
                        self._send(404, {"ok": False})
                        return
                    fake._record(
                        Call("files.download", {"path": self.path}, self.headers.get("Authorization"))
                    )
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                if self.path.startswith("/api/"):
                    method, _, query = self.path.removeprefix("/api/").partition("?")
                    self._api(method, {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()})
                    return
                self._send(404, {"ok": False, "error": "unknown_path"})

            def _api(self, method: str, args: dict[str, Any]) -> None:
                call = Call(method, args, self.headers.get("Authorization"))
                failure = fake._next_failure(method)
                if failure is not None:
                    call.response = failure.body
                    fake._record(call)
                    self._send(failure.status, failure.body, failure.headers)
                    return
                fake._record(call)  # before answering: a test may hold the answer back
                answer = fake._answer(method, args)
                call.response = answer if isinstance(answer, dict) else None
                headers = {"x-oauth-scopes": fake.scopes} if method == "auth.test" else None
                self._send(200, answer, headers)

            def do_POST(self) -> None:
                token = self.headers.get("Authorization")
                if self.path.startswith("/upload/"):  # files_upload_v2, step 2: the raw bytes
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length) if length else b""
                    file_id = self.path.removeprefix("/upload/")
                    with fake._lock:
                        fake.uploads[file_id] = raw
                    fake._record(
                        Call("file.upload", {"path": self.path, "size": len(raw), "body": raw}, token)
                    )
                    self._send(200, b"OK")
                    return
                args = self._args()
                if self.path.startswith("/response/"):
                    fake._record(Call("response_url", args, token))
                    self._send(200, {"ok": True})
                    return
                self._api(self.path.removeprefix("/api/").split("?")[0], args)

        return Handler

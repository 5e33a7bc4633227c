"""The DSA Transparency Database API (httpx): ``POST {VIGIL_DSA_URL}/api/v1/statements`` with
a bearer token, at most 100 statements a call.

The database takes a batch whole or not at all: a 201 lists each created statement with its
uuid; a 422 names the fields at fault as ``statements.N.field``. A puid the platform already
used is the database holding the statement already, so it counts as submitted; the other
statements of a refused batch were not looked at, so they are simply due again. 429, 5xx,
timeouts and connection errors are transient: the worker retries with backoff.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from workflows.decisions import BATCH, Submitted

log = logging.getLogger(__name__)
_FIELD = re.compile(r"^statements\.(\d+)\.(.+)$")
NOT_UNIQUE = "not unique"


class HttpTransparencyDatabase:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["Accept"] = "application/json"
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def submit(self, statements: list[dict[str, Any]]) -> list[Submitted]:
        if len(statements) > BATCH:
            raise ValueError(f"at most {BATCH} statements a call")
        puids = [str(s["puid"]) for s in statements]
        try:
            response = self.client.post("/api/v1/statements", json={"statements": statements})
        except httpx.HTTPError as exc:
            return [Submitted(p, "transient", detail=type(exc).__name__) for p in puids]
        if response.status_code in (200, 201):
            created = {str(s.get("puid")): s for s in _json(response).get("statements", [])}
            return [Submitted(p, "submitted", dsa_id=_uuid(created.get(p))) for p in puids]
        if response.status_code == 422:
            return _refused(puids, _json(response))
        detail = f"HTTP {response.status_code}"
        if response.status_code not in (429,) and response.status_code < 500:
            log.warning("transparency database answered unexpectedly", extra={"status": response.status_code})
        return [Submitted(p, "transient", detail=detail) for p in puids]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _uuid(created: dict[str, Any] | None) -> str | None:
    value = (created or {}).get("uuid")
    return str(value) if value else None


def _refused(puids: list[str], body: dict[str, Any]) -> list[Submitted]:
    faults: dict[int, list[str]] = {}
    errors = body.get("errors")
    for key, messages in errors.items() if isinstance(errors, dict) else []:
        match = _FIELD.match(str(key))
        if match is None:
            continue
        words = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        faults.setdefault(int(match.group(1)), []).append(f"{match.group(2)}: {words}")
    out = []
    for index, puid in enumerate(puids):
        problems = faults.get(index)
        if not problems:
            out.append(Submitted(puid, "transient"))  # not refused: its batch was
        elif len(problems) == 1 and problems[0].startswith("puid:") and NOT_UNIQUE in problems[0]:
            out.append(Submitted(puid, "duplicate"))
        else:
            out.append(Submitted(puid, "invalid", detail="; ".join(problems)))
    if not faults:
        message = str(body.get("message") or "422 without field errors")
        return [Submitted(p, "invalid", detail=message) for p in puids]
    return out

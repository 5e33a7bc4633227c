"""A fake DSA Transparency Database API over real HTTP, for the demo and the tests.

It checks statements by the database's published rules, written here independently of Vigil's
own model (workflows/decisions/schema.py) so that one cannot hide the other's mistake: required
fields, enumerations, lengths, dates, conditional fields, at most 100 statements a batch, a
bearer token, and a puid used once per platform. A batch is taken whole or refused whole with
``422 {"message", "errors": {"statements.N.field": [...]}}``. ``outage`` serves that status to
every call; ``stored`` is what the database holds, by puid.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PUID_TAKEN = "The identifier given is not unique within this platform."
ENUMS: dict[str, set[str]] = {
    "decision_ground": {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"},
    "decision_account": {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"},
    "decision_monetary": {
        "DECISION_MONETARY_SUSPENSION",
        "DECISION_MONETARY_TERMINATION",
        "DECISION_MONETARY_OTHER",
    },
    "decision_provision": {
        "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "DECISION_PROVISION_TOTAL_SUSPENSION",
        "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    },
    "source_type": {
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_NOTIFIER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        "SOURCE_VOLUNTARY",
    },
    "automated_detection": {"Yes", "No"},
    "automated_decision": {
        "AUTOMATED_DECISION_FULLY",
        "AUTOMATED_DECISION_PARTIALLY",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    },
    "category": {
        f"STATEMENT_CATEGORY_{c}"
        for c in [
            "ANIMAL_WELFARE",
            "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            "ILLEGAL_OR_HARMFUL_SPEECH",
            "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
            "NON_CONSENSUAL_BEHAVIOUR",
            "PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
            "PROTECTION_OF_MINORS",
            "RISK_FOR_PUBLIC_SECURITY",
            "SCAMS_AND_FRAUD",
            "SELF_HARM",
            "SCOPE_OF_PLATFORM_SERVICE",
            "UNSAFE_AND_ILLEGAL_PRODUCTS",
            "VIOLENCE",
        ]
    },
}
LIST_ENUMS: dict[str, set[str]] = {
    "content_type": {
        f"CONTENT_TYPE_{c}"
        for c in ["APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER"]
    },
    "decision_visibility": {
        f"DECISION_VISIBILITY_{c}"
        for c in [
            "CONTENT_REMOVED",
            "CONTENT_DISABLED",
            "CONTENT_DEMOTED",
            "CONTENT_AGE_RESTRICTED",
            "CONTENT_INTERACTION_RESTRICTED",
            "CONTENT_LABELLED",
            "OTHER",
        ]
    },
    "territorial_scope": set(
        [
            "AT",
            "BE",
            "BG",
            "CY",
            "CZ",
            "DE",
            "DK",
            "EE",
            "ES",
            "FI",
            "FR",
            "GR",
            "HR",
            "HU",
            "IE",
            "IS",
            "IT",
            "LI",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "NO",
            "PL",
            "PT",
            "RO",
            "SE",
            "SI",
            "SK",
        ]
    ),
}
MAX_LENGTH = {
    "decision_facts": 5000,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "content_type_other": 500,
    "puid": 500,
}
REQUIRED = (
    "decision_ground",
    "category",
    "content_type",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
    "territorial_scope",
)
DATES = ("content_date", "application_date", "end_date_account_restriction")


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def check(statement: Any) -> dict[str, list[str]]:
    """The database's field errors for one statement (empty when it would be accepted)."""
    if not isinstance(statement, dict):
        return {"statement": ["must be an object"]}
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in REQUIRED:
        if statement.get(name) in (None, "", []):
            fail(name, f"The {name} field is required.")
    for name, allowed in ENUMS.items():
        if statement.get(name) is not None and statement[name] not in allowed:
            fail(name, f"The selected {name} is invalid.")
    for name, allowed in LIST_ENUMS.items():
        value = statement.get(name)
        if value is not None and (not isinstance(value, list) or any(v not in allowed for v in value)):
            fail(name, f"The selected {name} is invalid.")
    for name, limit in MAX_LENGTH.items():
        value = statement.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            fail(name, f"The {name} must not be greater than {limit} characters.")
    puid = statement.get("puid")
    if isinstance(puid, str) and not re.fullmatch(r"[a-zA-Z0-9_-]+", puid):
        fail("puid", "The puid format is invalid.")
    if not any(
        statement.get(n)
        for n in ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    ):
        fail(
            "decision_visibility",
            "A decision_visibility, decision_monetary, decision_provision or decision_account is required.",
        )
    if statement.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        for name in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not statement.get(name):
                fail(name, f"The {name} field is required when decision ground is illegal content.")
    if statement.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for name in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not statement.get(name):
                fail(name, f"The {name} field is required when decision ground is incompatible content.")
    for choice, other in (
        ("decision_visibility", "decision_visibility_other"),
        ("content_type", "content_type_other"),
    ):
        chosen = statement.get(choice) or []
        if (
            isinstance(chosen, list)
            and any(str(c).endswith("_OTHER") for c in chosen)
            and not statement.get(other)
        ):
            fail(other, f"The {other} field is required when {choice} is other.")
    if statement.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not statement.get(
        "decision_monetary_other"
    ):
        fail(
            "decision_monetary_other",
            "The decision_monetary_other field is required when decision_monetary is other.",
        )
    dates = {}
    for name in DATES:
        if statement.get(name) is not None:
            dates[name] = _date(statement[name])
            if dates[name] is None:
                fail(name, f"The {name} does not match the format Y-m-d.")
    content, applied, until = (dates.get(n) for n in DATES)
    if content and content < date(2000, 1, 1):
        fail("content_date", "The content_date must be a date after or equal to 2000-01-01.")
    if content and applied and applied < content:
        fail("application_date", "The application_date must be a date after or equal to content_date.")
    if until and applied and until < applied:
        fail(
            "end_date_account_restriction", "The end_date_account_restriction must be after application_date."
        )
    if statement.get("end_date_account_restriction") is not None and not statement.get("decision_account"):
        fail("end_date_account_restriction", "Only with a decision_account.")
    return errors


class FakeTransparencyDatabase:
    def __init__(self, token: str = "dsa-test-token") -> None:
        self.token = token
        self.stored: dict[str, dict[str, Any]] = {}  # puid -> statement with its uuid
        self.calls: list[tuple[int, int]] = []  # (statements in the call, status answered)
        self.outage: int | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTransparencyDatabase:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: Any, authorization: str | None) -> tuple[int, dict[str, Any]]:
        if authorization != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}
        if self.outage is not None:
            return self.outage, {"message": "unavailable"}
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list) or not statements:
            return 422, {
                "message": "The statements field is required.",
                "errors": {"statements": ["required"]},
            }
        if len(statements) > 100:
            return 422, {"message": "Too many statements.", "errors": {"statements": ["at most 100"]}}
        with self._lock:
            errors: dict[str, list[str]] = {}
            seen: set[str] = set()
            for index, statement in enumerate(statements):
                problems = check(statement)
                puid = statement.get("puid") if isinstance(statement, dict) else None
                if isinstance(puid, str) and (puid in self.stored or puid in seen):
                    problems.setdefault("puid", []).append(PUID_TAKEN)
                if isinstance(puid, str):
                    seen.add(puid)
                for name, messages in problems.items():
                    errors[f"statements.{index}.{name}"] = messages
            if errors:
                return 422, {"message": "The given data was invalid.", "errors": errors}
            created = []
            for statement in statements:
                row = dict(statement) | {"uuid": str(uuid.uuid4())}
                self.stored[statement["puid"]] = row
                created.append(row)
            return 201, {"statements": created}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != "/api/v1/statements":
                    status, answer = 404, {"message": "Not Found"}
                else:
                    try:
                        body = json.loads(raw or b"null")
                    except ValueError:
                        body = None
                    status, answer = fake.answer(body, self.headers.get("Authorization"))
                    count = (
                        len(body["statements"])
                        if isinstance(body, dict) and isinstance(body.get("statements"), list)
                        else 0
                    )
                    with fake._lock:
                        fake.calls.append((count, status))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

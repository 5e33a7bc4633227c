"""Structured logs: JSON in production, readable in a terminal, and never a secret.

stdlib logging (Bolt, slack_sdk, uvicorn, SQLAlchemy) and structlog share one pipeline,
so the redaction below applies to every line whoever wrote it.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import importlib.util
import logging
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

_SECRET_KEYS = re.compile(
    r"token|secret|authorization|password|passwd|api[_-]?key|signature|credential|cookie", re.I
)
REDACTED = "[redacted]"


def _basic(match: re.Match[str]) -> str:
    """``Basic <b64>`` is a credential only if it decodes to ``user:password`` (so the words
    "Basic Information" in a sentence stay readable)."""
    encoded = match.group(2)
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return f"{match.group(1)}{REDACTED}" if b":" in decoded else match.group(0)


# Each pattern keeps what tells a reader where the secret was (its name, the scheme) and
# replaces only the secret itself.
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Slack tokens: bot, user, app-level, legacy workspace, refresh and rotating (xoxe.xoxp-…).
    (re.compile(r"xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"xapp-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), REDACTED),  # OpenAI-style keys
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    (
        re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])(?:[a-z]+\s+)?[^\s\"',;&]+"),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(\bbasic\s+)([A-Za-z0-9+/_-]{4,}={0,2})"), _basic),
    # user:password@ in any URL (database URLs above all).
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(@)"), rf"\g<1>{REDACTED}\g<2>"),
    # name=value and name: value pairs, in prose, query strings, form bodies and JSON text.
    (
        re.compile(
            r"""(?ix)
            (\b[a-z0-9_.-]*(?:token|secret|password|passwd|api[_-]?key|apikey|signature|credential)s?
             ["']?\s*[=:]\s*)
            (?:"[^"]*"|'[^']*'|[^\s"'&,;<>()\[\]{}]+)
            """
        ),
        rf"\g<1>{REDACTED}",
    ),
]


def scrub_text(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(scrub(v) for v in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception, a URL, a model) is rendered by its text: scrub that text.
    return scrub_text(str(value))


def _redact(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return scrub(event_dict)


class _ClientGiven(logging.Filter):
    """Bolt warns that `token` will be unused whenever SLACK_BOT_TOKEN is in the environment
    and the app is given a client: Vigil gives it the client on purpose (SLACK_API_URL, retry
    handlers), built from that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Imported here: only Bolt's own records reach this filter, and every `vigil` command
        # configures logging, most of them without loading Bolt.
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_CLIENT_GIVEN = _ClientGiven()

_STDLIB_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}


def _extra_from_record(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record = event_dict.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _STDLIB_ATTRS and not key.startswith("_") and key not in event_dict:
                event_dict[key] = value
    return event_dict


def _structlog(console: bool) -> ModuleType:
    """structlog, with rich only when lines are rendered for a terminal.

    structlog's package imports its console renderer, which imports rich for its tracebacks
    (a fifth of a `vigil` command's logging setup); JSON lines never use them, so rich is
    hidden while structlog first loads for JSON, and the renderer is loaded again, finding
    rich, if a terminal asks for it later in the same process.
    """
    hide = not console and "structlog" not in sys.modules and "rich" not in sys.modules
    if hide:
        sys.modules["rich"] = None  # type: ignore[assignment]  # the import system's "not installed"
    try:
        import structlog
    finally:
        if hide and sys.modules.get("rich", False) is None:
            del sys.modules["rich"]
    if console and structlog.dev.rich is None and importlib.util.find_spec("rich") is not None:
        importlib.reload(structlog.dev)
    return structlog


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    structlog = _structlog(console=not use_json)
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _extra_from_record,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that echo request bodies at INFO are turned down; DEBUG still shows them.
    for noisy in ("slack_sdk", "slack_bolt", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("slack_bolt.App").addFilter(_CLIENT_GIVEN)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

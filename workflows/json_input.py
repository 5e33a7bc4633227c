"""JSON from outside (Slack payloads, signal batches): parsed with a nesting limit.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on deeply nested input, and a
document just under the interpreter's limit parses but then breaks whatever walks it next
(validation, logging, serialising it back). No payload Vigil accepts nests anywhere near
``MAX_DEPTH``, so anything deeper is refused as bad input at the door.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JsonInputError(ValueError):
    """The text is not JSON Vigil accepts; the message completes "body is …" (for a 400)."""


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonInputError(f"nested more than {max_depth} levels deep") from None
    except (ValueError, UnicodeDecodeError):
        raise JsonInputError("not valid JSON") from None
    if too_deep(value, max_depth):
        raise JsonInputError(f"nested more than {max_depth} levels deep")
    return value


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether objects and arrays nest deeper than ``max_depth`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False

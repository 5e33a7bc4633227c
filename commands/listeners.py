"""Wrapping of listeners: time them and count failures. Bolt injects arguments by the
wrapped function's own parameter names (it unwraps), so handlers keep their signatures."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from workflows.metrics import ERRORS, HANDLER_SECONDS

F = TypeVar("F", bound=Callable[..., Any])


def timed(kind: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            except Exception:
                ERRORS.labels(where=kind).inc()
                raise
            finally:
                HANDLER_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)

        return wrapper  # type: ignore[return-value]

    return decorate

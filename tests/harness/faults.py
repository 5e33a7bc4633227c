"""Faults injected into the real database: a statement that fails the way a busy or failing
database fails (OperationalError), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from store.db import Database


class StatementFault:
    def __init__(self, starts_with: str, times: int) -> None:
        self.starts_with = starts_with.upper()
        self.left = times
        self.fired = 0
        self._lock = threading.Lock()

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith(self.starts_with):
            return
        with self._lock:
            if self.left <= 0:
                return
            self.left -= 1
            self.fired += 1
        raise OperationalError(statement, params, RuntimeError("database is locked (injected)"))


@contextmanager
def failing(db: Database, starts_with: str, times: int = 1) -> Iterator[StatementFault]:
    """The next ``times`` statements that start with ``starts_with`` raise OperationalError."""
    fault = StatementFault(starts_with, times)
    event.listen(db.engine, "before_cursor_execute", fault)
    try:
        yield fault
    finally:
        event.remove(db.engine, "before_cursor_execute", fault)

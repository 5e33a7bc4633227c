"""Engines and units of work. One session per unit of work: ``with db.transaction() as s``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from store.urls import normalize_url


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY_SNAPSHOT instead of waiting its turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, immediate=True)
            # Reads (digests, queues) must not hold the write lock while they aggregate.
            self._read_engine = _sqlite_engine(self.url, immediate=False)
        else:
            self.engine = create_engine(
                self.url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size * 2
            )
            self._read_engine = self.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A write transaction on a bare connection, for a hot path of a few Core statements
        that needs no ORM unit of work (the Slack event dedupe before the ack)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self._read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def schema_status(self) -> SchemaStatus:
        # Alembic loads only when someone asks (serve's preflight, `vigil db current`): a CLI
        # command that never looks at the schema should not pay for it.
        from store.migrate import current_revision, head_revision

        with self._read_engine.connect() as conn:
            current = current_revision(conn)
        return SchemaStatus(current=current, head=head_revision())

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not self.engine:
            self._read_engine.dispose()

"""Declarative base and the column types every table shares.

Every string Vigil stores came from somewhere it does not control (Slack, the platform's
APIs, a pasted file), and PostgreSQL refuses some strings Python holds happily: NUL
characters (in text and in JSONB) and lone surrogates (not UTF-8 at all). ``clean_text`` and
``clean_json`` make them storable, and they are applied by the column types themselves: every
String/Text column of a table on ``Base`` and every ``JSONType`` column, so no caller can
forget.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, Text, TypeDecorator, Unicode, UnicodeText
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeEngine

# Named constraints so Alembic's batch mode (SQLite) can find and alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """``value`` as PostgreSQL will store it: NUL characters and lone surrogates become U+FFFD
    (visible, so nobody mistakes the stored text for the original); everything else as is."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Paired surrogates (two code points) become the character they encode; lone ones U+FFFD.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def clean_json(value: Any) -> Any:
    """A JSON value with every string (keys too) cleaned; NaN and infinities, which JSONB
    refuses, become null (as JavaScript's JSON.stringify does)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class CleanString(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return clean_text(value) if isinstance(value, str) else value


class CleanText(CleanString):
    impl = Text
    cache_ok = True


class CleanJSON(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL, cleaned on the way in."""

    impl = JSON
    cache_ok = True
    # As JSON does: an explicit None is stored as JSON null, not left out of the INSERT.
    should_evaluate_none = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(postgresql.JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return clean_json(value)


_PLAIN_STRINGS = {String: CleanString, Unicode: CleanString, Text: CleanText, UnicodeText: CleanText}


def _clean_columns(table: Table) -> None:
    """Swap the plain String/Text columns of a mapped table for their cleaning twins (same
    length, same DDL), so models keep declaring ``String(64)`` as usual."""
    for column in table.columns:
        twin = _PLAIN_STRINGS.get(type(column.type))
        if twin is not None:
            column.type = twin(length=column.type.length)  # type: ignore[attr-defined]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, Table):
            _clean_columns(table)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use the injected clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = CleanJSON()


def insert_ignore(session: Session, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted.

    Uniqueness lives in the database so duplicate deliveries and duplicate replicas are
    harmless; this is how callers ask "was I first?" in one statement.
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        # rowcount is not reliable across drivers for ON CONFLICT; a returned row is.
        .returning(table.c[conflict[0]])
    )
    return session.execute(stmt).first() is not None

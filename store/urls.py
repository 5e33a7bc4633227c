"""Database URLs as operators write them, turned into what SQLAlchemy connects with."""

from __future__ import annotations

from sqlalchemy import make_url


def normalize_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)

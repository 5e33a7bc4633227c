"""Alembic migrations. Run them with `vigil db upgrade`."""

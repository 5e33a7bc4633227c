"""Persistence: SQLAlchemy 2.0 models, sessions and queries. Alembic (migrations/) owns the schema."""

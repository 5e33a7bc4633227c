"""Imports every model module so Alembic and tests see the whole schema in one metadata."""

from store import anomalies, audit, escalations, investigations, jobs, signals, slack_events  # noqa: F401

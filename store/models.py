"""Imports every model module so Alembic and tests see the whole schema in one metadata."""

from store import audit, enforcement, escalations, jobs, playbooks, reports, slack_events  # noqa: F401

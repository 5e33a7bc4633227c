"""Imports every model module so Alembic and tests see the whole schema in one metadata."""

from store import (  # noqa: F401
    anomalies,
    audit,
    cases,
    decisions,
    drafts,
    enforcement,
    installation,
    investigations,
    jobs,
    playbooks,
    reports,
    signals,
    slack_events,
)

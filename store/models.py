"""Imports every model module so Alembic and tests see the whole schema in one metadata."""

from store import (  # noqa: F401
    ai,
    anomalies,
    audit,
    cases,
    coverage,
    decisions,
    drafts,
    enforcement,
    handoff,
    installation,
    investigations,
    jobs,
    patterns,
    playbooks,
    reports,
    signals,
    slack_events,
)

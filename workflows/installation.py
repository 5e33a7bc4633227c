"""Facts about this deployment: which Vigil it is, and when Vigil first started here."""

from __future__ import annotations

from datetime import datetime
from importlib import metadata

from store import installation as store
from store.db import Database
from workflows.clock import Clock


def vigil_version() -> str:
    try:
        return metadata.version("vigil")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def first_start(db: Database, clock: Clock) -> datetime:
    """When Vigil first started on this database; the first caller ever records it."""
    with db.transaction() as session:
        return store.record_first_start(session, clock.now(), vigil_version())

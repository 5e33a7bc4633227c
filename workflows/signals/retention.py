"""Signals past retention: the one stated exception to "nothing is deleted" (DESIGN.md).

It covers raw signals only (the ``signals`` rows and their client ids); hourly rollups go
by their own, longer ``signals.rollup_retention``; cases, reports, decisions and the audit log
are never touched. On PostgreSQL a month goes whole (its partition is dropped once the whole
month is past retention, so a row lives at most a month longer than ``signals.retention``);
on SQLite rows are deleted by time in batches, each its own short transaction, so ingest is
never blocked for long. Every run that removed something leaves one audit row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from store import signal_partitions as store
from store.db import Database
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig

log = logging.getLogger(__name__)

DELETE_BATCH = 10_000
MONTHS_AHEAD = 3
ACTOR = "vigil"


@dataclass
class RetentionResult:
    cutoff: datetime
    rollup_cutoff: datetime
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_signals: int = 0
    deleted_ids: int = 0
    deleted_rollups: int = 0

    @property
    def removed_anything(self) -> bool:
        removed = self.deleted_signals + self.deleted_ids + self.deleted_rollups
        return bool(self.dropped_partitions) or removed > 0


class SignalRetention:
    def __init__(self, db: Database, clock: Clock, config: VigilConfig, batch: int = DELETE_BATCH) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.batch = batch

    def ensure_partitions(self, ahead: int = MONTHS_AHEAD) -> list[str]:
        """This month's partition and ``ahead`` more (PostgreSQL; nothing to do on SQLite)."""
        created: list[str] = []
        now = self.clock.now()
        with self.db.transaction() as session:
            if not store.is_partitioned(session):
                return created
            store.lock(session)
            for add in range(ahead + 1):
                name = store.create_partition(session, store.month_start(now, add))
                if name:
                    created.append(name)
        if created:
            log.info("signal partitions created", extra={"partitions": created})
        return created

    def run(self) -> RetentionResult:
        now = self.clock.now()
        settings = self.config.signals
        result = RetentionResult(
            cutoff=now - settings.retention, rollup_cutoff=now - settings.rollup_retention
        )
        with self.db.transaction() as session:
            partitioned = store.is_partitioned(session)
            if partitioned:
                store.lock(session)
                result.dropped_partitions = store.drop_partitions_before(session, result.cutoff)
        while True:
            with self.db.transaction() as session:
                deleted = store.delete_signals_before(
                    session, result.cutoff, self.batch, default_only=partitioned
                )
            result.deleted_signals += deleted
            if deleted < self.batch:
                break
        while True:
            with self.db.transaction() as session:
                deleted = store.delete_signal_ids_before(session, result.cutoff, self.batch)
            result.deleted_ids += deleted
            if deleted < self.batch:
                break
        with self.db.transaction() as session:
            result.deleted_rollups = store.delete_rollups_before(session, result.rollup_cutoff)
            if result.removed_anything:
                audit.record(
                    session,
                    at=now,
                    actor=ACTOR,
                    action="signals.retention",
                    subject_type="signals",
                    subject_id=result.cutoff.date().isoformat(),
                    data={
                        "cutoff": result.cutoff.isoformat(),
                        "rollup_cutoff": result.rollup_cutoff.isoformat(),
                        "dropped_partitions": result.dropped_partitions,
                        "deleted_signals": result.deleted_signals,
                        "deleted_ids": result.deleted_ids,
                        "deleted_rollups": result.deleted_rollups,
                    },
                )
        if result.removed_anything:
            log.info(
                "signal retention",
                extra={
                    "dropped_partitions": result.dropped_partitions,
                    "deleted_signals": result.deleted_signals,
                    "deleted_rollups": result.deleted_rollups,
                },
            )
        return result

    def tick(self) -> RetentionResult:
        """The scheduled job: partitions ahead first (so today's signals never land in the
        default partition), then retention."""
        self.ensure_partitions()
        return self.run()

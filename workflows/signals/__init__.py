"""Signals: the platform's abuse telemetry (logins, model scores, send velocity, payment
declines, abuse reports) coming in over HTTP or from files, stored whole or refused whole,
never twice, and read back as velocity features, rollups and reports.

- ``intake``: decoding and checking a batch (``RowValidator``, ``BatchRejected``, limits)
- ``service``: the ``Signals`` service (ingest, report routing, the population cache)
- ``velocity``: velocity features and population percentiles
- ``files``: the readers of ``vigil signals import``
- ``ports``: ``SignalRuleHook``, where playbooks plug in; ``linking``: its default
- ``views``: what hooks and adapters see (reports, batches, results)
"""

from typing import TYPE_CHECKING

from workflows import lazy

if TYPE_CHECKING:
    from workflows.signals.files import read_signal_file
    from workflows.signals.intake import (
        MAX_BATCH,
        MAX_BODY_BYTES,
        BatchRejected,
        RowError,
        RowValidator,
        Unreadable,
        decode_batch,
        parse_time,
        validate_batch,
    )
    from workflows.signals.linking import NewestOpenCaseLinker
    from workflows.signals.ports import SignalRuleHook
    from workflows.signals.service import JOB_INGESTED, Signals
    from workflows.signals.velocity import PERCENTILES, WINDOWS, population_stats, velocity_features
    from workflows.signals.views import IngestedBatch, IngestResult, ReportView

__all__ = [
    "JOB_INGESTED",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "PERCENTILES",
    "WINDOWS",
    "BatchRejected",
    "IngestResult",
    "IngestedBatch",
    "NewestOpenCaseLinker",
    "ReportView",
    "RowError",
    "RowValidator",
    "SignalRuleHook",
    "Signals",
    "Unreadable",
    "decode_batch",
    "parse_time",
    "population_stats",
    "read_signal_file",
    "validate_batch",
    "velocity_features",
]

# Each room loads when one of its names is first used (workflows/lazy.py).
__getattr__, __dir__ = lazy.exports(__name__, __file__)

"""Abuse patterns (``PAT-n``): recent report texts, case texts and shared signal attributes
clustered into groups (near-duplicate templates, similar wording, a shared link domain, a shared
device or payment fingerprint), tracked across runs, posted once when new or fast-growing, and
turned into a shadow playbook rule to close the loop.

- ``detect``: the pure clustering engine (MinHash/LSH, TF-IDF, shared values)
- ``service``: the ``Patterns`` service (detection runs, naming, not abuse, investigations, jobs)
- ``rules``: ``RuleDrafts``: a pattern's candidate rule, its backtest, saving it to the folder
- ``views``: what adapters render, and the digest's ``TopPatterns``
- ``ports``: ``PatternLabeler`` (``TopTermsLabeler`` offline) and ``PatternNotifier``
"""

from workflows.patterns.detect import Cluster, Item, Settings, Shared, cluster, normalise
from workflows.patterns.ports import PatternLabeler, PatternNotifier, TopTermsLabeler
from workflows.patterns.rules import RuleDrafts
from workflows.patterns.service import JOB_DETECT, JOB_POST, JOB_UPDATE, Patterns
from workflows.patterns.views import (
    ActionResult,
    DetectionReport,
    Outcomes,
    PatternView,
    RuleDraft,
    TopPatterns,
    WrongHit,
)

__all__ = [
    "JOB_DETECT",
    "JOB_POST",
    "JOB_UPDATE",
    "ActionResult",
    "Cluster",
    "DetectionReport",
    "Item",
    "Outcomes",
    "PatternLabeler",
    "PatternNotifier",
    "PatternView",
    "Patterns",
    "RuleDraft",
    "RuleDrafts",
    "Settings",
    "Shared",
    "TopPatterns",
    "TopTermsLabeler",
    "WrongHit",
    "cluster",
    "normalise",
]

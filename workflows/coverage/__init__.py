"""Detection coverage: for every confirmed abuse, how it was first found (a live rule, an
anomaly, a model signal, a pattern, a report, a CX escalation, a person's investigation) and
how long after the account's first signal; per category, source or pattern, the share found
by automation and by people, the delays, and the weak points ranked."""

from workflows.coverage.derive import AUTOMATION, PEOPLE, SOURCES, Derived
from workflows.coverage.service import Coverage, derive_findings
from workflows.coverage.views import (
    BY_CHOICES,
    By,
    CoverageReport,
    FindingView,
    Group,
    WeakPoint,
    build_report,
)

__all__ = [
    "AUTOMATION",
    "BY_CHOICES",
    "PEOPLE",
    "SOURCES",
    "By",
    "Coverage",
    "CoverageReport",
    "Derived",
    "FindingView",
    "Group",
    "WeakPoint",
    "build_report",
    "derive_findings",
]

"""How one confirmed abuse was first found: the pure rule, so a test can check it on a
hand-built history and an auditor can read it.

Confirmed abuse is one finding per account: the earliest confirmation (a case resolved
``actioned``, an investigation closed ``abuse_confirmed``, an executed suspension nobody
reversed). Its category is the abuse type as enforcement names it (the suspension's reason
code), else a report's reason when that is a reason code, else ``other``. It was first found
by the earliest detection at or before the confirmation, ties going to automation; the delay
runs from the account's first signal in the lookback before that detection.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The order ties are broken in: automation before people. Open: a new detector adds a name.
SOURCES: tuple[str, ...] = (
    "rule",
    "anomaly",
    "model_signal",
    "pattern",
    "report",
    "cx_escalation",
    "investigation",
)
AUTOMATION = frozenset({"rule", "anomaly", "model_signal", "pattern"})
PEOPLE = frozenset({"report", "cx_escalation", "investigation"})
# A case is a detection by whoever raised it: reports of hosts and users are reports, CX
# escalations are CX, anything else an analyst or another team raised is a person's finding.
CASE_SOURCES = {"host_report": "report", "user_report": "report", "cx_escalation": "cx_escalation"}
MAX_CANDIDATES = 50


@dataclass(frozen=True)
class Confirmed:
    kind: str  # case, investigation, suspension
    ref: str
    at: datetime
    reason_code: str | None = None


@dataclass(frozen=True)
class Detection:
    source: str  # one of SOURCES
    ref: str
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Derived:
    account_id: str
    category: str
    confirmed_by: str
    confirmed_at: datetime
    source: str
    source_ref: str
    found_at: datetime
    first_signal_ref: str | None
    first_signal_at: datetime
    delay: timedelta
    pattern_ref: str | None
    rule_matched: bool
    candidates: list[dict[str, Any]]

    def sentence(self) -> str:
        """What an auditor reads: "first found by report rep-91 at …"."""
        delay_h = self.delay.total_seconds() / 3600
        return (
            f"{self.account_id} ({self.category}, confirmed by {self.confirmed_by} at "
            f"{self.confirmed_at:%Y-%m-%d %H:%M} UTC): first found by {self.source} {self.source_ref} at "
            f"{self.found_at:%Y-%m-%d %H:%M} UTC, {delay_h:.1f} h after its first signal"
            + (f" ({self.first_signal_ref})" if self.first_signal_ref else "")
        )


def detection_of(kind: str, ref: str, at: datetime, detail: str | None) -> Detection | None:
    """A stored clue as a detection (None for clues that are not one, e.g. shadow rule hits)."""
    if kind == "case":
        return Detection(CASE_SOURCES.get(detail or "", "investigation"), ref, at, detail)
    if kind in SOURCES:
        return Detection(kind, ref, at, detail)
    return None


def category_of(
    confirmed: Iterable[Confirmed], reports: Iterable[Detection], reason_codes: Collection[str]
) -> str:
    for item in sorted(confirmed, key=lambda c: c.at):
        if item.reason_code:
            return item.reason_code
    for report in sorted(reports, key=lambda d: d.at):
        if report.detail in reason_codes:
            return str(report.detail)
    return "other"


def derive(
    account_id: str,
    confirmed: list[Confirmed],
    detections: list[Detection],
    rule_matched_at: list[datetime],
    reason_codes: Collection[str],
) -> tuple[Derived, datetime]:
    """The finding, without its first signal yet (returned with the time to look back from):
    the caller finds that signal in the store and completes it with `with_first_signal`."""
    first = min(confirmed, key=lambda c: (c.at, c.ref))
    before = sorted(
        (d for d in detections if d.at <= first.at), key=lambda d: (d.at, SOURCES.index(d.source), d.ref)
    )
    found = (
        before[0]
        if before
        else Detection("investigation", first.ref, first.at, "confirmed without a prior detection")
    )
    reports = [d for d in detections if d.source == "report"]
    derived = Derived(
        account_id=account_id,
        category=category_of(confirmed, reports, reason_codes),
        confirmed_by=first.ref,
        confirmed_at=first.at,
        source=found.source,
        source_ref=found.ref,
        found_at=found.at,
        first_signal_ref=None,
        first_signal_at=found.at,
        delay=timedelta(0),
        pattern_ref=found.ref if found.source == "pattern" else None,
        rule_matched=any(at <= first.at for at in rule_matched_at),
        candidates=[
            {"source": d.source, "ref": d.ref, "at": d.at.isoformat(), "detail": d.detail}
            for d in before[:MAX_CANDIDATES]
        ],
    )
    return derived, found.at


def with_first_signal(derived: Derived, ref: str | None, at: datetime | None) -> Derived:
    """Complete the finding with the account's first signal (never after the detection)."""
    if at is None or at > derived.found_at:
        return derived
    return Derived(
        **{**derived.__dict__, "first_signal_ref": ref, "first_signal_at": at, "delay": derived.found_at - at}
    )

"""The patterns service: the detection run (hourly, and `vigil patterns detect`), what people do
with a pattern (name it, open an investigation of its top accounts, call it not abuse, link it
from an investigation or a request), and the job that posts each alert once.

A pattern is tracked across runs by what it holds: a text group that shares members with a
stored pattern is that pattern (it keeps its ``PAT-n`` and grows); a shared domain or
fingerprint is found again by its signature.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from store import patterns as store
from store.db import Database
from store.patterns import Pattern
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.investigations import Investigations
from workflows.jobs import JobRunner, PermanentJobError, enqueue
from workflows.patterns.detect import Cluster, Item, Settings, Shared, cluster, normalise
from workflows.patterns.ports import PatternLabeler, PatternNotifier
from workflows.patterns.views import ActionResult, DetectionReport, Outcomes, PatternView, view_of

log = logging.getLogger(__name__)

JOB_DETECT = "pattern.detect"
JOB_POST = "pattern.post"
JOB_UPDATE = "pattern.update"
DAY, WEEK = timedelta(days=1), timedelta(days=7)
EXAMPLES = 5
TEXT_KINDS = ("template", "wording")


class Patterns:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: VigilConfig,
        labeler: PatternLabeler,
        *,
        jobs: JobRunner,
        investigations: Investigations | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.labeler = labeler
        self.jobs = jobs
        self.investigations = investigations

    @property
    def settings(self) -> Settings:
        s = self.config.patterns
        return Settings(
            min_size=s.min_size,
            min_accounts=s.min_accounts,
            similarity=s.similarity,
            wording_similarity=s.wording_similarity,
            ignore_domains=frozenset(d.lower() for d in s.ignore_domains),
        )

    # detection ----------------------------------------
    def gather(self, now: datetime) -> tuple[list[Item], list[Shared]]:
        """Reports, cases and shared attribute values of the lookback window."""
        since = now - timedelta(days=self.config.patterns.lookback_days)
        with self.db.read() as session:
            items = [
                Item(f"report:{rid}", account, text, at)
                for rid, account, text, at in store.reports_since(session, since, now)
            ]
            items += [
                Item(f"case:{cid}", account, text, at)
                for cid, account, text, at in store.cases_since(session, since, now)
            ]
            shared = [
                Shared(link.key, link.value, link.account_id, link.first_seen_at)
                for link in store.shared_values_since(session, since, self.config.signals.link_keys)
            ]
        return items, shared

    def detect(self, at: datetime | None = None) -> DetectionReport:
        """Cluster the window before ``at`` (default now) and fold the groups into the stored
        patterns. Run through the job queue by the scheduler (one run per hour, whichever
        replica claims it)."""
        now = at or self.clock.now()
        items, shared = self.gather(now)
        report = DetectionReport(items=len(items) + len(shared))
        clusters = cluster(items, shared, self.settings)
        # New groups are labelled before the write transaction: a labeller may be a language
        # model, and no lock is held while it thinks.
        with self.db.read() as session:
            fresh = [group for group in clusters if self._match(session, group) is None]
        labels = {id(group): self.labeler.label(group)[:200] for group in fresh}
        if clusters:
            with self.db.transaction() as session:
                for group in clusters:
                    self._fold(session, group, now, report, labels.get(id(group)))
        if report.queued:
            self.jobs.wake()
        return report

    def _fold(
        self, session: Session, group: Cluster, now: datetime, report: DetectionReport, label: str | None
    ) -> None:
        pattern = self._match(session, group)
        is_new = pattern is None
        if pattern is None:
            first = min(i.at for i in group.items)
            pattern = Pattern(
                kind=group.kind,
                signature=group.signature,
                label=label or self.labeler.label(group)[:200],
                status="watching",
                size=0,
                account_count=0,
                day=0,
                prev_day=0,
                week=0,
                prev_week=0,
                first_seen=first,
                last_seen=first,
                terms=[],
                examples=[],
                top_accounts=[],
                detected_at=now,
                updated_at=now,
            )
            session.add(pattern)
            session.flush()
        added = store.add_members(session, pattern.id, [(i.key, i.account_id, i.at) for i in group.items])
        figures = store.member_figures(session, pattern.id, now, DAY, WEEK)
        for name, value in figures.items():
            setattr(pattern, name, value)
        pattern.terms = group.terms
        pattern.top_accounts = store.top_accounts(session, pattern.id)
        if added or is_new:
            pattern.examples = _examples(group, pattern.examples)
            pattern.updated_at = now
        session.flush()
        if is_new:
            audit.record(
                session,
                at=now,
                actor="vigil",
                action="pattern.detected",
                subject_type="pattern",
                subject_id=pattern.ref,
                data={"kind": pattern.kind, "size": pattern.size, "label": pattern.label},
            )
        if self._alert_worthy(pattern) and store.queue_post(session, pattern.id):
            enqueue(
                session, self.clock, JOB_POST, {"pattern_id": pattern.id}, key=f"pattern-post:{pattern.id}"
            )
            report.queued.append(view_of(pattern))
        elif pattern.message_ts and added:
            enqueue(session, self.clock, JOB_UPDATE, {"pattern_id": pattern.id})
        if is_new:
            report.new.append(view_of(pattern))
        elif added:
            report.grown.append(view_of(pattern))
        else:
            report.unchanged += 1

    def _match(self, session: Session, group: Cluster) -> Pattern | None:
        if group.signature is not None:
            return store.by_signature(session, group.signature)
        overlap = store.overlapping(session, [i.key for i in group.items], TEXT_KINDS)
        if not overlap:
            return None
        best = max(overlap, key=lambda pid: (overlap[pid], -pid))
        return session.get(Pattern, best)

    def _alert_worthy(self, pattern: Pattern) -> bool:
        """New and big enough, or growing fast today; posted once either way."""
        s = self.config.patterns
        if pattern.feedback is not None or pattern.status != "watching":
            return False
        if pattern.size >= s.alert_size:
            return True
        return pattern.day >= s.min_size and pattern.day >= s.growth_factor * max(pattern.prev_day, 1)

    # reading ----------------------------------------
    def list(self, limit: int = 50) -> list[PatternView]:
        with self.db.read() as session:
            return [view_of(p) for p in store.listed(session, limit)]

    def get(self, pattern_id: int, with_outcomes: bool = False) -> PatternView | None:
        with self.db.read() as session:
            pattern = session.get(Pattern, pattern_id)
            if pattern is None:
                return None
            return view_of(pattern, self._outcomes(session, pattern) if with_outcomes else None)

    def _outcomes(self, session: Session, pattern: Pattern) -> Outcomes:
        accounts = store.accounts_of(session, pattern.id)
        fate = store.account_outcomes(session, accounts)
        actioned = sum(1 for v in fate.values() if v == "actioned")
        reversed_ = sum(1 for v in fate.values() if v == "reversed")
        linked = store.links_of(session, pattern.id)
        linked += [
            f"REQ-{r}" for r in store.requests_naming(session, pattern.ref) if f"REQ-{r}" not in linked
        ]
        linked += [i.ref for i in store.investigations_naming(session, pattern.ref) if i.ref not in linked]
        return Outcomes(actioned, reversed_, len(accounts) - actioned - reversed_, linked)

    # what people do ----------------------------------------
    def name(self, pattern_id: int, name: str, user: str) -> ActionResult:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            return ActionResult("refused", detail="a name is 1 to 200 characters")
        now = self.clock.now()
        with self.db.transaction() as session:
            if not store.set_name(session, pattern_id, name, user):
                return ActionResult("not_found")
            pattern = session.get(Pattern, pattern_id)
            assert pattern is not None
            session.refresh(pattern)
            audit.record(
                session,
                at=now,
                actor=user,
                action="pattern.named",
                subject_type="pattern",
                subject_id=pattern.ref,
                data={"name": name},
            )
            self._queue_update(session, pattern)
            view = view_of(pattern)
        self.jobs.wake()
        return ActionResult("done", view)

    def not_abuse(self, pattern_id: int, user: str) -> ActionResult:
        now = self.clock.now()
        with self.db.transaction() as session:
            won = store.dismiss_if_open(session, pattern_id, user, now)
            pattern = session.get(Pattern, pattern_id)
            if pattern is None:
                return ActionResult("not_found")
            session.refresh(pattern)
            if not won:
                return ActionResult("already", view_of(pattern))
            audit.record(
                session,
                at=now,
                actor=user,
                action="pattern.not_abuse",
                subject_type="pattern",
                subject_id=pattern.ref,
                data={"size": pattern.size},
            )
            self._queue_update(session, pattern)
            view = view_of(pattern)
        self.jobs.wake()
        return ActionResult("done", view)

    def open_investigation(self, pattern_id: int, user: str, channel: str | None) -> ActionResult:
        """An investigation of the pattern's top account (one open per account: a second click
        finds the first one), linked to the pattern."""
        if self.investigations is None:
            return ActionResult("refused", detail="investigations are not available here")
        pattern = self.get(pattern_id)
        if pattern is None:
            return ActionResult("not_found")
        if not pattern.top_accounts:
            return ActionResult("refused", pattern, "no account stands out in this pattern")
        account = pattern.top_accounts[0]["account_id"]
        result = self.investigations.open(
            account, user, channel=pattern.channel or channel, thread_ts=pattern.message_ts
        )
        if result.investigation is None:
            return ActionResult("refused", pattern, f"{account}: {result.outcome}")
        ref = result.investigation.ref
        self.link(pattern_id, ref, user)
        return ActionResult("done" if result.outcome == "opened" else "already", pattern, ref)

    def link(self, pattern_id: int, subject: str, user: str) -> bool:
        """Records that an investigation or request (``INV-3``, ``REQ-7``) is about the pattern."""
        now = self.clock.now()
        with self.db.transaction() as session:
            if session.get(Pattern, pattern_id) is None:
                return False
            if store.link(session, pattern_id, subject.upper(), user, now):
                audit.record(
                    session,
                    at=now,
                    actor=user,
                    action="pattern.linked",
                    subject_type="pattern",
                    subject_id=f"PAT-{pattern_id}",
                    data={"subject": subject.upper()},
                )
        return True

    def _queue_update(self, session: Session, pattern: Pattern) -> None:
        if pattern.message_ts:
            enqueue(session, self.clock, JOB_UPDATE, {"pattern_id": pattern.id})

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: PatternNotifier) -> None:
        def detect(payload: dict[str, Any]) -> None:
            report = self.detect()
            if report.new or report.queued:
                log.info(
                    "patterns detected",
                    extra={"new": [p.ref for p in report.new], "queued": [p.ref for p in report.queued]},
                )

        def post(payload: dict[str, Any]) -> None:
            pattern = self._job_pattern(payload)
            if pattern.message_ts is not None:
                return  # posted already: a retried job never posts twice
            channel = self.config.channels.alerts
            ts = notifier.post_alert(pattern, channel)
            with self.db.transaction() as session:
                store.mark_posted(session, pattern.id, channel, ts)

        def refresh(payload: dict[str, Any]) -> None:
            notifier.update_alert(self._job_pattern(payload))

        runner.register(JOB_DETECT, detect)
        runner.register(JOB_POST, post)
        runner.register(JOB_UPDATE, refresh)

    def schedule_detection(self) -> bool:
        """Queue this hour's run (the scheduler on every replica calls this; one run happens)."""
        hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
        with self.db.transaction() as session:
            queued = enqueue(session, self.clock, JOB_DETECT, {}, key=f"pattern-detect:{hour:%Y-%m-%dT%H}")
        if queued:
            self.jobs.wake()
        return queued

    def _job_pattern(self, payload: dict[str, Any]) -> PatternView:
        pattern = self.get(int(payload["pattern_id"]), with_outcomes=True)
        if pattern is None:
            raise PermanentJobError(f"pattern {payload['pattern_id']} does not exist")
        return pattern


def _examples(group: Cluster, kept: list[str]) -> list[str]:
    """Up to five texts that differ once normalised, the ones shown before first."""
    out: list[str] = []
    seen: set[str] = set()
    for text in [*kept, *(i.text for i in sorted(group.items, key=lambda i: i.at, reverse=True))]:
        key = normalise(text)
        if key in seen:
            continue
        seen.add(key)
        out.append(text[:300])
        if len(out) == EXAMPLES:
            break
    return out

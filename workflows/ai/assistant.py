"""The AI features, one use case each: summarise a case or an investigation, suggest a new
case's triage, write the digest's narrative, and read the ledger of calls.

Each asks the gateway first and answers offline when it cannot (saying why). None of them
changes a case, a request or an investigation: what the model says is only ever shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from store import ai as store
from store import cases as case_store
from store.cases import Case
from store.db import Database
from store.investigations import Investigation
from workflows.ai import narrative, summarize, triage
from workflows.ai.ports import AiNotifier
from workflows.ai.service import AiGateway, AiResult
from workflows.ai.views import (
    Authorship,
    CallView,
    Figure,
    LabelView,
    Narrative,
    NarrativeView,
    PatternLabel,
    SuggestionView,
    Summary,
    SummaryView,
    TriageAdvice,
)
from workflows.cases import jobs as case_jobs
from workflows.cases.triage import CATEGORIES
from workflows.cases.views import view_of as case_view
from workflows.clock import Clock
from workflows.investigations.views import view_of as investigation_view
from workflows.jobs import JobRunner, PermanentJobError, enqueue

if TYPE_CHECKING:
    from workflows.patterns.detect import Cluster
    from workflows.patterns.ports import PatternLabeler

JOB_SUMMARY = "ai.summary"
JOB_TRIAGE = "ai.triage"
PAST_CASES = 500


def authorship(result: AiResult[Any]) -> Authorship:
    return Authorship(
        ai=result.ok, fallback=result.fallback_words, truncated=result.truncated, model=result.model
    )


class Assistant:
    def __init__(self, db: Database, clock: Clock, gateway: AiGateway, jobs: JobRunner | None = None):
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.jobs = jobs

    # summaries ----------------------------------------
    def summarize_case(self, case_id: int) -> SummaryView | None:
        with self.db.read() as session:
            row = case_store.case_by_id(session, case_id)
            if row is None:
                return None
            case = case_view(session, row, with_events=True)
        material, _ = summarize.case_material(case)
        result = self.gateway.ask(
            "summarize",
            Summary,
            texts={"material": material},
            context={
                "subject_kind": "case",
                "ref": case.ref,
                "category": case.category,
                "priority": case.priority,
                "status": case.status,
            },
            known_accounts=case.accounts,
            subject=case.ref,
        )
        value = result.value or summarize.extractive_case_summary(case)
        return SummaryView(case.ref, value, authorship(result), case.channel, case.ts)

    def summarize_investigation(self, investigation_id: int) -> SummaryView | None:
        with self.db.read() as session:
            row = session.get(Investigation, investigation_id)
            if row is None:
                return None
            inv = investigation_view(session, row, with_events=True)
        material, _ = summarize.investigation_material(inv)
        result = self.gateway.ask(
            "summarize",
            Summary,
            texts={"material": material},
            context={
                "subject_kind": "investigation",
                "ref": inv.ref,
                "category": "investigation",
                "priority": "-",
                "status": inv.status,
            },
            known_accounts=[inv.account_id],
            subject=inv.ref,
        )
        value = result.value or summarize.extractive_investigation_summary(inv)
        return SummaryView(inv.ref, value, authorship(result), inv.channel, inv.message_ts or inv.thread_ts)

    def summarize_later(self, kind: str, subject_id: int) -> None:
        """Queue a summary to be posted in the subject's thread (a button's or a command's
        work runs after the ack)."""
        with self.db.transaction() as session:
            enqueue(session, self.clock, JOB_SUMMARY, {"kind": kind, "id": subject_id})
        if self.jobs is not None:
            self.jobs.wake()

    # triage suggestion ----------------------------------------
    def queue(self, session: Session, case_id: int) -> None:
        """cases' CaseSuggestionHook, in the new case's transaction. Offline, the suggestion is
        made at once (a read of past cases), so the card is posted with it; with a model it
        is asked for after the ack, and the card is updated when it arrives."""
        if not self.gateway.configured:
            row = case_store.case_by_id(session, case_id)
            if row is None:
                return
            past = store.past_case_texts(session, PAST_CASES, before_id=case_id)
            self._keep(session, case_id, triage.nearest_category(row.text, past), "not_configured")
            return
        enqueue(session, self.clock, JOB_TRIAGE, {"case_id": case_id}, key=f"ai-triage:{case_id}")

    def resolved(self, session: Session, case: Case) -> None:
        """cases' CaseSuggestionHook, in the resolution's transaction: what the analyst kept."""
        store.record_outcome(session, case.id, case.category, case.priority, self.clock.now())

    def suggest_triage(self, case_id: int) -> SuggestionView | None:
        with self.db.read() as session:
            existing = store.suggestion_for(session, case_id)
            row = case_store.case_by_id(session, case_id)
            if row is None:
                return None
            if existing is not None:
                return _suggestion_view(row.ref, existing)
            case = case_view(session, row)
            past = store.past_case_texts(session, PAST_CASES, before_id=case_id)
        result = self.gateway.ask(
            "triage",
            TriageAdvice,
            texts={"text": case.text},
            context={"categories": list(CATEGORIES)},
            known_accounts=case.accounts,
            subject=case.ref,
        )
        advice = result.value or triage.nearest_category(case.text, past)
        with self.db.transaction() as session:
            stored = self._keep(session, case_id, advice, result.fallback)
            # The card shows it under the playbook's decision (the card job re-renders the case).
            case_jobs.update_card_later(session, self.clock, case_id)
            return _suggestion_view(case.ref, stored)

    def _keep(
        self, session: Session, case_id: int, advice: TriageAdvice, fallback: str | None
    ) -> store.AiSuggestion:
        store.add_suggestion_once(
            session,
            {
                "case_id": case_id,
                "at": self.clock.now(),
                "source": "offline" if fallback else "ai",
                "category": advice.category,
                "priority": advice.priority,
                "confidence": advice.confidence,
                "rationale": advice.rationale,
                "fallback": fallback,
            },
        )
        stored = store.suggestion_for(session, case_id)
        assert stored is not None
        return stored

    def suggestion(self, case_id: int) -> SuggestionView | None:
        with self.db.read() as session:
            row = case_store.case_by_id(session, case_id)
            stored = store.suggestion_for(session, case_id)
            return _suggestion_view(row.ref, stored) if row and stored else None

    # digest narrative ----------------------------------------
    def narrative(self, week: str, figures: list[Figure]) -> NarrativeView:
        result = self.gateway.ask(
            "digest_narrative",
            Narrative,
            texts={},
            context={"week": week, "figures": figures},
            subject=week,
        )
        if result.value is not None:
            kept, dropped = narrative.check(result.value.sentences, figures, extra=[week])
            if kept:
                return NarrativeView(kept[:4], authorship(result), dropped)
            offline = Authorship(ai=False, fallback="every AI sentence stated a figure not in the digest")
            return NarrativeView(narrative.offline(figures), offline, dropped)
        return NarrativeView(narrative.offline(figures), authorship(result))

    # pattern labels (the abuse-pattern loop asks) ----------------------------------------
    def label_pattern(self, terms: list[str], examples: list[str], subject: str | None = None) -> LabelView:
        """A short label for a cluster of similar reports: the model's, or its top terms."""
        result = self.gateway.ask(
            "pattern_label",
            PatternLabel,
            texts={"examples": "\n".join(f"- {text}" for text in examples[:5])},
            context={"terms": terms[:10]},
            subject=subject,
        )
        if result.value is not None and result.value.label.strip():
            return LabelView(result.value.label.strip(), authorship(result))
        return LabelView(" / ".join(terms[:3]) or "unlabelled", authorship(result))

    # the ledger ----------------------------------------
    def calls(self, limit: int = 20, since: datetime | None = None) -> list[CallView]:
        with self.db.read() as session:
            return [
                CallView(
                    c.at,
                    c.task,
                    c.model,
                    c.template_hash,
                    c.tokens_in,
                    c.tokens_out,
                    c.latency_ms,
                    c.outcome,
                    c.subject,
                )
                for c in store.recent_calls(session, limit, since)
            ]

    def totals(self, since: datetime) -> list[tuple[str, str, int, int, int]]:
        with self.db.read() as session:
            return store.call_totals(session, since)

    # jobs ----------------------------------------
    def register_jobs(self, runner: JobRunner, notifier: AiNotifier) -> None:
        def summary(payload: dict[str, Any]) -> None:
            kind, subject_id = str(payload["kind"]), int(payload["id"])
            view = (
                self.summarize_case(subject_id)
                if kind == "case"
                else self.summarize_investigation(subject_id)
            )
            if view is None:
                raise PermanentJobError(f"{kind} {subject_id} does not exist")
            if view.channel and view.thread_ts:
                notifier.post_summary(view.channel, view.thread_ts, view)

        def suggestion(payload: dict[str, Any]) -> None:
            if self.suggest_triage(int(payload["case_id"])) is None:
                raise PermanentJobError(f"case {payload['case_id']} does not exist")

        self.jobs = self.jobs or runner
        runner.register(JOB_SUMMARY, summary)
        runner.register(JOB_TRIAGE, suggestion)


def _suggestion_view(ref: str, row: store.AiSuggestion) -> SuggestionView:
    return SuggestionView(
        ref, row.category, row.priority, row.confidence, row.rationale, row.source, row.fallback
    )


class PatternLabels:
    """The patterns' labeller (workflows/patterns' ``PatternLabeler``) when a model is configured:
    the model names a group of near-duplicate or similar texts from its examples, redacted like
    every call; a domain or fingerprint group keeps its plain label, and any failure falls back
    to the top terms."""

    def __init__(self, assistant: Assistant, fallback: PatternLabeler) -> None:
        self.assistant = assistant
        self.fallback = fallback

    def label(self, cluster: Cluster) -> str:
        if cluster.kind in ("domain", "fingerprint") or not cluster.terms:
            return self.fallback.label(cluster)
        examples = [item.text for item in cluster.items[:5]]
        return self.assistant.label_pattern(cluster.terms, examples).label[:200]

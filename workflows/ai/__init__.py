"""AI assistance: summaries, triage suggestions and the digest narrative, through one gateway
(service.AiGateway) that redacts what leaves (redact.py), keeps a daily token budget, records
every call and falls back to an offline answer, saying why. The AI only ever suggests and
summarises; it never executes, approves or closes anything."""

from workflows.ai.assistant import JOB_SUMMARY, JOB_TRIAGE, Assistant
from workflows.ai.ports import AiNotifier, Completion, LanguageModel, ModelFailure
from workflows.ai.redact import Redacted, Redactor, redact
from workflows.ai.service import AiGateway, AiResult
from workflows.ai.views import (
    Authorship,
    CallView,
    Figure,
    LabelView,
    NarrativeView,
    SuggestionView,
    Summary,
    SummaryView,
    TriageAdvice,
)

__all__ = [
    "JOB_SUMMARY",
    "JOB_TRIAGE",
    "AiGateway",
    "AiNotifier",
    "AiResult",
    "Assistant",
    "Authorship",
    "CallView",
    "Completion",
    "Figure",
    "LabelView",
    "LanguageModel",
    "ModelFailure",
    "NarrativeView",
    "Redacted",
    "Redactor",
    "SuggestionView",
    "Summary",
    "SummaryView",
    "TriageAdvice",
    "redact",
]

"""Summaries of a case or an investigation: the material (the thread and the timeline as
text), and the extractive summary the offline path writes without a model.

The extractive summary is a real one: sentences are scored by how many of the material's
frequent content words they carry (a classic Luhn-style extract), the best ones kept in
their order; key facts come from the record; open questions are the questions asked in the
thread and what the record lacks; the next step follows the case's state.
"""

from __future__ import annotations

import re
from collections import Counter

import regex

from workflows.ai.views import Summary
from workflows.cases.views import CaseView
from workflows.investigations.views import InvestigationView

# Sentence ends in Latin, CJK, Devanagari and Arabic scripts.
_SENTENCE_END = regex.compile(r"(?<=[.!?\u3002\uff01\uff1f\u0964\u061f])\s+|\n+")
_QUESTION_ENDS = ("?", "\uff1f", "\u061f")
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}\p{N}'_-]*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "le",
        "la",
        "les",
        "de",
        "des",
        "du",
        "et",
        "un",
        "une",
        "est",
        "en",
        "que",
        "qui",
        "pour",
        "pas",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "el",
        "los",
        "las",
        "y",
        "es",
        "por",
        "para",
        "con",
    ]
)


def case_material(case: CaseView) -> tuple[str, list[str]]:
    """(material for the model, the user-written texts in it) of a case and its timeline."""
    texts = [case.text]
    lines = [f"Message from {_who(case.author)}: {case.text}"]
    for event in case.events:
        data = event.data
        if event.kind in ("note", "note_edited", "message_edited") and data.get("text"):
            texts.append(str(data["text"]))
            lines.append(f"{event.kind.replace('_', ' ')} by {_who(event.actor)}: {data['text']}")
        elif event.kind not in ("card_posted",):
            # By name: JSONB (PostgreSQL) and SQLite give an event's keys back in other orders.
            detail = ", ".join(
                f"{k}={v}" for k, v in sorted(data.items()) if k not in ("triage", "text", "previous")
            )
            lines.append(f"[{event.at:%Y-%m-%d %H:%M}] {event.kind} by {_who(event.actor)} {detail}".rstrip())
    return "\n".join(lines), texts


def investigation_material(inv: InvestigationView) -> tuple[str, list[str]]:
    texts = [t for t in (inv.findings,) if t]
    lines = [f"Investigation of account {inv.account_id}, opened by {_who(inv.opened_by)}."]
    if inv.findings:
        lines.append(f"Findings: {inv.findings}")
    for event in inv.events:
        data = {k: v for k, v in event.data.items() if not isinstance(v, dict | list)}
        for value in data.values():
            if isinstance(value, str) and len(value) > 40:
                texts.append(value)
        detail = ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
        lines.append(f"[{event.at:%Y-%m-%d %H:%M}] {event.kind} by {_who(event.actor)} {detail}".rstrip())
    return "\n".join(lines), texts


def _who(user: str | None) -> str:
    return f"<@{user}>" if user and re.fullmatch(r"[UW][A-Z0-9]{2,}", user) else (user or "Vigil")


def sentences(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for piece in _SENTENCE_END.split(text):
            piece = piece.strip()
            if len(_WORD.findall(piece)) >= 3 or piece.endswith(_QUESTION_ENDS):
                found.append(piece)
    return found


def extract(texts: list[str], keep: int = 3, max_chars: int = 600) -> list[str]:
    """The ``keep`` sentences that carry most of the texts' frequent content words, in order."""
    pool = sentences(texts)
    words = Counter(w for s in pool for w in _content_words(s))
    if not pool or not words:
        return [t.strip()[:max_chars] for t in texts[:1] if t.strip()]
    top = words.most_common(1)[0][1]

    def score(sentence: str) -> float:
        content = _content_words(sentence)
        return sum(words[w] / top for w in content) / (len(content) ** 0.5 or 1)

    best = sorted(range(len(pool)), key=lambda i: (-score(pool[i]), i))[:keep]
    chosen = [pool[i] for i in sorted(best)]
    out, used = [], 0
    for sentence in chosen:
        if used + len(sentence) > max_chars and out:
            break
        out.append(sentence[:max_chars])
        used += len(sentence)
    return out


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(sentence)) if w not in _STOP and len(w) > 2]


def questions(texts: list[str], limit: int = 4) -> list[str]:
    return [s for s in sentences(texts) if s.endswith(_QUESTION_ENDS)][:limit]


def extractive_case_summary(case: CaseView) -> Summary:
    _, texts = case_material(case)
    facts = [
        f"{case.category_label}, priority {case.priority}, {case.status}"
        + (f" (outcome {case.outcome})" if case.outcome else ""),
    ]
    if case.accounts:
        facts.append("Accounts: " + ", ".join(case.accounts))
    facts.append(f"Owner: {_who(case.claimed_by)}" if case.claimed_by else "Unclaimed")
    if case.escalations:
        facts.append(f"Escalated {case.escalations} time(s)")
    notes = sum(1 for e in case.events if e.kind == "note")
    if notes:
        facts.append(f"{notes} note(s) in the thread")
    facts.extend(f"Playbook rule {hit.rule_id} ({hit.mode})" for hit in case.rule_hits[:3])
    open_questions = questions(texts)
    if not case.accounts:
        open_questions.append("Which account is this about? No account id is named.")
    if case.status == "new":
        open_questions.append("Who takes it? Nobody has claimed the case.")
    return Summary(
        summary=" ".join(extract(texts)),
        key_facts=facts,
        open_questions=open_questions,
        next_step=_next_step(case),
    )


def _next_step(case: CaseView) -> str:
    if not case.is_open:
        return f"None: the case is resolved ({case.outcome or 'no outcome'})."
    if case.status == "new":
        return "Claim the case and read the reported message."
    if case.accounts:
        return f"Investigate {case.accounts[0]} (/vigil investigate {case.accounts[0]}) before deciding."
    return "Ask the reporter for the account id, then investigate it."


def extractive_investigation_summary(inv: InvestigationView) -> Summary:
    _, texts = investigation_material(inv)
    facts = [
        f"Account {inv.account_id}",
        f"Status {inv.status}" + (f", outcome {inv.outcome}" if inv.outcome else ""),
    ]
    facts.append(f"{len(inv.events)} timeline event(s)")
    return Summary(
        summary=" ".join(extract(texts)) or f"Investigation {inv.ref} of {inv.account_id}, {inv.status}.",
        key_facts=facts,
        open_questions=questions(texts)
        or ([] if inv.findings else ["What did the investigation find so far?"]),
        next_step=(
            f"Record the outcome of {inv.ref} with the evidence." if inv.is_open else "None: it is closed."
        ),
    )

"""The offline triage suggestion: the category and priority of the most similar past cases.

A small nearest-neighbour model over word sets (cosine of binary bags of content words) of
the last resolved cases, as the analysts left them; with no similar past case it says so and
falls back to the built-in keyword triage. The model path asks for the same shape
(views.TriageAdvice); either way it is a suggestion shown beside the playbook's decision.
"""

from __future__ import annotations

import math
from collections import Counter

from workflows.ai.summarize import _content_words
from workflows.ai.views import TriageAdvice
from workflows.cases.triage import CATEGORIES, PRIORITIES, DefaultTriage

NEIGHBOURS = 7


def nearest_category(text: str, past: list[tuple[str, str, str]]) -> TriageAdvice:
    """``past``: (text, category, priority) of resolved cases, newest first."""
    words = set(_content_words(text))
    scored = []
    for other, category, priority in past:
        theirs = set(_content_words(other))
        if not words or not theirs:
            continue
        similarity = len(words & theirs) / math.sqrt(len(words) * len(theirs))
        if similarity > 0.1:
            scored.append((similarity, category, priority))
    scored.sort(key=lambda s: -s[0])
    nearest = scored[:NEIGHBOURS]
    if not nearest:
        keyword = DefaultTriage().triage(text, [])
        why = "; ".join(keyword.reasons) or "no keyword matched"
        return TriageAdvice(
            category=_known(keyword.category),  # type: ignore[arg-type]
            priority=keyword.priority,  # type: ignore[arg-type]
            confidence=0.3,
            rationale=f"offline: no similar past case; keyword triage ({why})"[:300],
        )
    votes: Counter[str] = Counter()
    priorities: Counter[str] = Counter()
    for similarity, category, priority in nearest:
        votes[category] += similarity
        priorities[priority] += similarity
    category, weight = votes.most_common(1)[0]
    priority = priorities.most_common(1)[0][0]
    agreeing = sum(1 for _, c, _ in nearest if c == category)
    return TriageAdvice(
        category=_known(category),  # type: ignore[arg-type]
        priority=priority if priority in PRIORITIES else "P3",  # type: ignore[arg-type]
        confidence=round(weight / sum(votes.values()), 2),
        rationale=f"offline: {agreeing} of the {len(nearest)} most similar past cases were {category}",
    )


def _known(category: str) -> str:
    return category if category in CATEGORIES else "other"

"""The digest narrative: two to four sentences grounded in the week's computed figures.

The model is given the figures and nothing else; every number in its sentences is checked
back against them and a sentence stating a figure that was not given is dropped. Without a
model (or with too little left) the narrative is written from the largest changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from workflows.ai.views import Figure

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")


def _forms(value: float | int | str | None) -> set[str]:
    if value is None:
        return set()
    text = str(value).rstrip("%")
    forms = {text}
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return forms | {n.replace(",", "") for n in _NUMBER.findall(text)}
    forms |= {f"{number:g}", f"{number:.0f}", f"{number:.1f}", f"{number:.2f}"}
    if number.is_integer():
        forms.add(str(int(number)))
    return forms


def allowed_numbers(figures: list[Figure], extra: Sequence[str] = ()) -> set[str]:
    allowed: set[str] = set()
    for figure in figures:
        allowed |= _forms(figure.value) | _forms(figure.previous)
        allowed |= {n.replace(",", "") for n in _NUMBER.findall(figure.label)}
    for text in extra:
        allowed |= {n.replace(",", "").lstrip("+-") for n in _NUMBER.findall(text)}
    return allowed


def check(
    sentences: list[str], figures: list[Figure], extra: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(kept, dropped): a sentence is kept only if each number in it is one of the figures."""
    allowed = allowed_numbers(figures, extra)
    kept, dropped = [], []
    for sentence in sentences:
        numbers = [n.replace(",", "").lstrip("+-") for n in _NUMBER.findall(sentence)]
        if all(n in allowed or n.rstrip("0").rstrip(".") in allowed for n in numbers):
            kept.append(sentence.strip())
        else:
            dropped.append(sentence.strip())
    return kept, dropped


def offline(figures: list[Figure]) -> list[str]:
    """Up to three sentences on the largest relative changes, then what held steady."""
    changes = []
    for figure in figures:
        try:
            now, before = float(figure.value), float(figure.previous)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if now == before:
            continue
        size = abs(now - before) / max(abs(before), 1.0)
        changes.append((size, figure, now > before))
    changes.sort(key=lambda c: -c[0])
    sentences = [
        f"{f.label} {'rose' if up else 'fell'} from {f.previous} to {f.value}." for _, f, up in changes[:3]
    ]
    if not sentences:
        shown = [f for f in figures if f.value is not None][:2]
        sentences = [f"{f.label}: {f.value}." for f in shown] or ["No figures changed this week."]
    return sentences

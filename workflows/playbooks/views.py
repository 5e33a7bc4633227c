"""What `/vigil rules` shows: the live rules, how often each matched lately, and whether the
last reload was refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import playbooks as store
from workflows.playbooks.loader import RuleSet
from workflows.playbooks.reload import Playbooks

HITS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class RulesOverview:
    rules: RuleSet
    hits: dict[tuple[str, str], int]  # (rule id, mode) → hits within HITS_WINDOW
    last_error: list[str] | None  # the problems of a refused reload; the rules shown stay live


def rules_overview(session: Session, playbooks: Playbooks, now: datetime) -> RulesOverview:
    return RulesOverview(
        rules=playbooks.rules,
        hits=store.hit_counts(session, now - HITS_WINDOW),
        last_error=playbooks.last_error,
    )

"""Running rules over one subject: which active rules match, in which mode (guardrails may
turn live into shadow), why, and the rule_hits rows that record it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any, Literal

import cel
from sqlalchemy.orm import Session

from store import playbooks as store
from workflows.metrics import RULE_ERRORS, RULE_HITS
from workflows.playbooks.context import SUBJECT_OF, with_defaults
from workflows.playbooks.loader import TEMPLATES, Action, CompiledRule, RuleSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    rule: CompiledRule
    mode: Literal["live", "shadow"]
    actions: list[Action]
    why: dict[str, Any]
    note: str | None = None  # e.g. a guardrail that turned live into shadow


@dataclass
class Evaluation:
    trigger: str
    subject_type: str
    subject_id: str
    matches: list[Match] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """What a timeline records of the matches."""
        return [{"rule": m.rule.id, "mode": m.mode, "note": m.note} for m in self.matches]


def daily_cap_reached(compiled: CompiledRule, live_count_today: Callable[[str], int] | None) -> str | None:
    """The guardrail ``max_actions_per_day``: why a live match only records (a note), or None."""
    limit = compiled.rule.guardrails.max_actions_per_day
    if limit is not None and live_count_today and live_count_today(compiled.id) >= limit:
        return f"max_actions_per_day ({limit}) reached"
    return None


def evaluate(
    rules: RuleSet,
    trigger: str,
    subject_id: str,
    context: dict[str, Any],
    now: datetime,
    live_count_today: Callable[[str], int] | None = None,
    everything: bool = False,
) -> Evaluation:
    """Run every active rule for ``trigger`` over one subject. A rule that errors on this
    subject is logged with the subject and skipped; the others go on. ``everything``
    (backtests) also runs rules that are off or expired."""
    full = with_defaults(trigger, context)
    cel_context = cel.Context()
    cel_context.update(full)
    result = Evaluation(trigger=trigger, subject_type=SUBJECT_OF[trigger], subject_id=subject_id)
    for compiled in rules.for_trigger(trigger):
        if not everything and not compiled.active(now):
            continue
        try:
            matched = compiled.program.execute(cel_context)
        except Exception as exc:
            RULE_ERRORS.labels(rule=compiled.id).inc()
            log.warning(
                "rule failed on a subject",
                extra={"rule": compiled.id, "subject": subject_id, "error": str(exc).splitlines()[0][:300]},
            )
            result.errors.append((compiled.id, str(exc).splitlines()[0][:300]))
            continue
        if matched is not True:
            continue
        mode: Literal["live", "shadow"] = "shadow" if compiled.rule.mode == "shadow" else "live"
        note = daily_cap_reached(compiled, live_count_today) if mode == "live" else None
        if note is not None:
            mode = "shadow"
        result.matches.append(Match(compiled, mode, list(compiled.rule.actions), compiled.why(full), note))
    return result


def live_counts_since(session: Session, since: datetime) -> Callable[[str], int]:
    """``live_count_today`` for evaluate(): a rule's live hits since ``since``, asked only
    of rules that match and have a cap."""
    return lambda rule_id: store.live_hits_since(session, rule_id, since)


def record_hits(
    session: Session, evaluation: Evaluation, now: datetime, account_id: str | None = None
) -> None:
    for match in evaluation.matches:
        store.add_hit(
            session,
            account_id=account_id or None,
            rule_id=match.rule.id,
            playbook_version=match.rule.version,
            trigger=evaluation.trigger,
            subject_type=evaluation.subject_type,
            subject_id=evaluation.subject_id,
            mode=match.mode,
            actions=[{a.kind: a.value} for a in match.actions],
            why=_jsonable(match.why),
            note=match.note,
            at=now,
        )
        RULE_HITS.labels(rule=match.rule.id, mode=match.mode).inc()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


def render_notification(template: str, context: dict[str, Any]) -> str:
    """A notify action's text, plain (the Slack adapter escapes it). Raises TemplateError
    (a field the subject lacks, a sandbox violation)."""
    return TEMPLATES.from_string(template).render(**context)


def start_of_day(now: datetime, tz: tzinfo) -> datetime:
    """Local midnight of ``now`` in ``tz``: where a rule's daily cap starts counting."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)

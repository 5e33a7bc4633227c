"""Closing the loop: a pattern becomes a candidate playbook rule (a CEL condition over what
defines the pattern, mode ``shadow``), kept in the database as a draft, backtested at once on
the stored cases; an admin saves it to the playbooks folder, still in shadow mode.

Files stay the source of truth for live rules: a draft runs nowhere until it is saved, and a
saved one only records what it would have done until someone switches it to live.
"""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from store import patterns as store
from store.cases import accounts_of
from store.db import Database
from store.patterns import Pattern, PatternRule
from store.playbooks import cases_opened_between
from workflows import audit
from workflows.clock import Clock
from workflows.config import VigilConfig
from workflows.patterns.views import ActionResult, RuleDraft, draft_of, view_of
from workflows.playbooks import (
    AccountFeatures,
    CaseOutcomeLabels,
    PlaybookError,
    backtest,
    case_context,
    evaluate,
    load_rules,
)
from workflows.playbooks.loader import RuleSet

BACKTEST_WINDOW = timedelta(days=30)
MAX_WRONG = 10
MAX_ACCOUNTS_IN_RULE = 50


def _cel_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def condition_for(pattern: Pattern, accounts: list[str]) -> str:
    """The CEL condition over the fields the pattern is defined by: its shared words for a
    text pattern, its domain for a link pattern, its accounts for a shared fingerprint."""
    if pattern.kind == "domain":
        domain = pattern.signature.split(":", 1)[1] if pattern.signature else pattern.terms[0]
        return f"case.text.matches({_cel_string('(?i)' + re.escape(domain))})"
    if pattern.kind == "fingerprint" or not pattern.terms:
        listed = ", ".join(_cel_string(a) for a in accounts[:MAX_ACCOUNTS_IN_RULE])
        return f"case.accounts.exists(a, a in [{listed}])"
    terms = pattern.terms[:3]
    words = [_cel_string(r"(?i)\b" + re.escape(t) + r"\b") for t in terms]
    return " && ".join(f"case.text.matches({w})" for w in words)


def rule_yaml(pattern: Pattern, rule_id: str, condition: str) -> str:
    title = pattern.name or pattern.label
    body = {
        "description": f"Drafted by Vigil from {pattern.ref} ({title})",
        "rules": [
            {
                "id": rule_id,
                "description": f"Cases that look like {pattern.ref}: {title}"[:300],
                "trigger": "case.created",
                "mode": "shadow",
                "condition": condition,
                "actions": [{"add_label": f"pat-{pattern.id}"}],
            }
        ],
    }
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=1000)


class RuleDrafts:
    def __init__(self, db: Database, clock: Clock, config: VigilConfig, features: AccountFeatures) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.features = features

    def draft(self, pattern_id: int, user: str) -> RuleDraft | ActionResult:
        now = self.clock.now()
        with self.db.transaction() as session:
            pattern = session.get(Pattern, pattern_id)
            if pattern is None:
                return ActionResult("not_found")
            count = len(store.rules_of(session, pattern_id))
            rule_id = f"pattern-{pattern_id}" + (f"-{count + 1}" if count else "")
            condition = condition_for(pattern, store.accounts_of(session, pattern_id))
            body = rule_yaml(pattern, rule_id, condition)
            try:
                rules = _compile(body)
            except PlaybookError as exc:
                return ActionResult("refused", view_of(pattern), "; ".join(exc.problems)[:500])
            figures = self._backtest(session, rules, now - BACKTEST_WINDOW, now)
            figures["condition"] = condition
            rule = store.add_rule(
                session,
                {
                    "pattern_id": pattern_id,
                    "rule_id": rule_id,
                    "body": body,
                    "backtest": figures,
                    "created_by": user,
                    "created_at": now,
                },
            )
            audit.record(
                session,
                at=now,
                actor=user,
                action="pattern.rule_drafted",
                subject_type="pattern",
                subject_id=pattern.ref,
                data={"rule_id": rule_id, "condition": condition, "precision": figures["precision"]},
            )
            return draft_of(rule)

    def _backtest(self, session: Session, rules: RuleSet, since: Any, until: Any) -> dict[str, Any]:
        (result,) = backtest(session, rules, since, until, self.features)
        labels = CaseOutcomeLabels()
        wrong: list[dict[str, Any]] = []
        # Whom it would have hit wrongly: the backtest counts them, the team wants their names.
        if result.false_positives:
            for case in cases_opened_between(session, since, until):
                accounts = accounts_of(session, case.id)
                context = case_context(case, accounts, {}, case.created_at, as_created=True)
                hit = evaluate(rules, "case.created", case.ref, context, case.created_at, everything=True)
                if hit.matches and labels.label(session, case) is False:
                    wrong.append({"case": case.ref, "accounts": accounts, "outcome": case.outcome or ""})
                    if len(wrong) == MAX_WRONG:
                        break
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "evaluated": result.evaluated,
            "matched": result.matched,
            "true_positives": result.true_positives,
            "false_positives": result.false_positives,
            "false_negatives": result.false_negatives,
            "unlabelled": result.unlabelled,
            "precision": result.precision,
            "recall": result.recall,
            "wrong": wrong,
        }

    def get(self, draft_id: int) -> RuleDraft | None:
        with self.db.read() as session:
            rule = session.get(PatternRule, draft_id)
            return draft_of(rule) if rule else None

    def of_pattern(self, pattern_id: int) -> list[RuleDraft]:
        with self.db.read() as session:
            return [draft_of(r) for r in store.rules_of(session, pattern_id)]

    def save(self, draft_id: int, user: str) -> tuple[str, RuleDraft | None]:
        """Writes the draft into the playbooks folder as its own file, in shadow mode. Returns
        (outcome, draft): ``saved``, ``already`` (saved before), ``not_found``, ``exists`` (a file
        of that name is there and is not this draft's), ``invalid`` (the folder would not load)."""
        now = self.clock.now()
        folder = Path(self.config.playbooks)
        with self.db.transaction() as session:
            rule = session.get(PatternRule, draft_id)
            if rule is None:
                return "not_found", None
            if rule.saved_at is not None:
                return "already", draft_of(rule)
            path = folder / f"{rule.rule_id}.yaml"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with path.open("x", encoding="utf-8") as out:  # a double click: one file, one writer
                    out.write(rule.body)
            except FileExistsError:
                return "exists", draft_of(rule)
            try:
                load_rules(folder)
            except PlaybookError:
                path.unlink(missing_ok=True)
                return "invalid", draft_of(rule)
            store.mark_rule_saved(session, draft_id, user, now, str(path))
            audit.record(
                session,
                at=now,
                actor=user,
                action="pattern.rule_saved",
                subject_type="pattern",
                subject_id=f"PAT-{rule.pattern_id}",
                data={"rule_id": rule.rule_id, "path": str(path)},
            )
            session.refresh(rule)
            return "saved", draft_of(rule)


def _compile(body: str) -> RuleSet:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "draft.yaml").write_text(body, encoding="utf-8")
        return load_rules(Path(folder))

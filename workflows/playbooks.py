"""Playbooks: versioned YAML rules with CEL conditions that standardise decisions.

A rule has a trigger, a CEL condition over a documented context (docs/playbooks.md),
actions, and a mode: ``live`` acts, ``shadow`` only records what it would have done,
``off`` is loaded but never evaluated. Every match writes a rule_hits row. Playbooks
never suspend anyone: enforcement always goes through a human request and approval.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import cel
import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.playbooks import RuleHit
from workflows.cases import CATEGORIES, timeline
from workflows.config import check_channel_id
from workflows.metrics import RULE_ERRORS, RULE_HITS

log = logging.getLogger(__name__)

TRIGGERS = (
    "case.created",
    "case.updated",
    "report.received",
    "signal.ingested",
    "anomaly.detected",
    "enforcement.requested",
)
Trigger = Literal[
    "case.created",
    "case.updated",
    "report.received",
    "signal.ingested",
    "anomaly.detected",
    "enforcement.requested",
]
WINDOWS = ("1h", "24h", "7d")
ACCOUNT_COUNTS = ("reports", "cases", "signals", "enforcement_actions")

# The context a condition sees, per trigger: the shape is checked at load time so a typo
# in a field name fails `vigil rules check`, not a live evaluation. "*" is a free-form map.
_ACCOUNT = {"id": "", **{f"{kind}_{w}": 0 for kind in ACCOUNT_COUNTS for w in WINDOWS}, "suspended": False}
_CASE = {
    "id": "CASE-1",
    "category": "other",
    "priority": "P3",
    "status": "new",
    "source": "channel",
    "text": "",
    "author": "",
    "author_is_bot": False,
    "channel": "",
    "accounts": [""],
    "labels": [""],
    "escalations": 0,
    "outcome": "",
    "age_minutes": 0,
}
SCHEMA: dict[str, dict[str, Any]] = {
    "case.created": {"case": _CASE, "account": _ACCOUNT},
    "case.updated": {"case": _CASE, "account": _ACCOUNT, "change": ""},
    "report.received": {
        "report": {"id": "", "account_id": "", "reporter": "", "reason": "", "text": "", "case_id": ""},
        "account": _ACCOUNT,
    },
    "signal.ingested": {
        "signal": {"id": "", "type": "", "account_id": "", "value": 0.0, "attributes": {"*": ""}},
        "account": _ACCOUNT,
    },
    "anomaly.detected": {
        "anomaly": {
            "id": "",
            "signal_type": "",
            "dimension": "",
            "value": "",
            "kind": "",
            "observed": 0.0,
            "expected": 0.0,
            "score": 0.0,
        },
    },
    "enforcement.requested": {
        "request": {
            "id": "",
            "action": "",
            "reason_code": "",
            "accounts": [""],
            "count": 0,
            "requester": "",
            "note": "",
            "evidence": "",
        },
        "account": _ACCOUNT,
    },
}
_SUBJECT_OF = {
    "case.created": "case",
    "case.updated": "case",
    "report.received": "report",
    "signal.ingested": "signal",
    "anomaly.detected": "anomaly",
    "enforcement.requested": "request",
}
# Which actions make sense where; everything else is a load error naming the rule.
_ACTIONS_FOR: dict[str, set[str]] = {
    "case.created": {
        "set_category",
        "set_priority",
        "add_label",
        "route",
        "recommend",
        "require_second_review",
        "open_investigation",
        "notify",
    },
    "case.updated": {
        "set_priority",
        "add_label",
        "route",
        "recommend",
        "require_second_review",
        "open_investigation",
        "notify",
    },
    "report.received": {"route", "notify", "open_investigation", "recommend", "add_label"},
    "signal.ingested": {"route", "notify", "open_investigation"},
    "anomaly.detected": {"route", "notify", "open_investigation"},
    "enforcement.requested": {"route", "notify", "recommend", "require_second_review"},
}


class PlaybookError(Exception):
    """A playbook folder that cannot be used; each line names file, rule and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- the file format ----------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


CHANNEL_ALIASES = ("alerts", "engineering", "digest", "approvals")


def _channel_ref(value: Any) -> str:
    """A Slack channel id, or the name of a configured channel (``alerts``), so a shipped
    playbook works in any workspace."""
    if isinstance(value, str) and value in CHANNEL_ALIASES:
        return value
    try:
        return check_channel_id(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is neither a channel id (C…) nor one of {', '.join(CHANNEL_ALIASES)}"
        ) from None


ChannelRef = Annotated[str, BeforeValidator(_channel_ref)]


class Notify(_Strict):
    channel: ChannelRef
    template: str = Field(min_length=1)

    @field_validator("template")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            _TEMPLATES.from_string(value)
        except TemplateError as exc:
            raise ValueError(f"template does not compile: {exc}") from None
        return value


class Action(_Strict):
    """Exactly one of these per list item: ``- set_priority: P1``."""

    set_category: str | None = None
    set_priority: Literal["P1", "P2", "P3", "P4"] | None = None
    add_label: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.:-]{0,40}$")
    route: ChannelRef | None = None
    recommend: str | None = Field(default=None, min_length=1, max_length=300)
    require_second_review: str | None = Field(default=None, min_length=1, max_length=300)
    open_investigation: bool | None = None
    notify: Notify | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        set_keys = [k for k, v in self.__dict__.items() if v is not None]
        if len(set_keys) != 1:
            raise ValueError(f"each action sets exactly one of {', '.join(type(self).model_fields)}")
        if self.set_category is not None and self.set_category not in CATEGORIES:
            raise ValueError(f"set_category: {self.set_category!r} is not one of {', '.join(CATEGORIES)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)

    @property
    def value(self) -> Any:
        raw = getattr(self, self.kind)
        return raw.model_dump() if isinstance(raw, BaseModel) else raw


class Guardrails(_Strict):
    expires_at: datetime | date | None = None
    max_actions_per_day: int | None = Field(default=None, ge=1)


class Example(_Strict):
    name: str
    expect: Literal["match", "no match"]
    context: dict[str, Any]


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,63}$")
    description: str = Field(min_length=1)
    trigger: Trigger
    condition: str = Field(min_length=1)
    actions: list[Action] = Field(default_factory=list)
    mode: Literal["live", "shadow", "off"] = "live"
    guardrails: Guardrails = Field(default_factory=Guardrails)
    examples: list[Example] = Field(default_factory=list)


class PlaybookFile(_Strict):
    description: str = ""
    rules: list[Rule] = Field(default_factory=list)


# --- compiled ----------------------------------------
_TEMPLATES = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PATH = re.compile(r"(?<![\w.])([a-z_]\w*)((?:\.[A-Za-z_]\w*)+)")


def field_paths(condition: str, roots: Iterable[str]) -> list[str]:
    """Dotted paths a condition reads (``account.reports_24h``), string literals ignored."""
    bare = _STRING_LITERAL.sub("''", condition)
    wanted = set(roots)
    found: list[str] = []
    for match in _PATH.finditer(bare):
        if match.group(1) in wanted:
            path = match.group(1) + match.group(2)
            # A trailing method call (text.contains(...)) is not a field.
            end = match.end()
            if end < len(bare) and bare[end] == "(":
                path = path.rsplit(".", 1)[0]
            if path not in found:
                found.append(path)
    return found


def _resolve(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _check_path(schema: dict[str, Any], path: str) -> str | None:
    node: Any = schema
    walked = []
    for part in path.split("."):
        walked.append(part)
        if isinstance(node, dict) and "*" in node:
            return None  # a free-form map: any key may be there
        if not isinstance(node, dict) or part not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "nothing (not a map)"
            return f"unknown field {'.'.join(walked)!r} (known here: {known})"
        node = node[part]
    return None


@dataclass
class CompiledRule:
    rule: Rule
    file: str
    version: str
    program: Any
    paths: list[str]

    @property
    def id(self) -> str:
        return self.rule.id

    def active(self, now: datetime) -> bool:
        if self.rule.mode == "off":
            return False
        expires = self.rule.guardrails.expires_at
        if expires is None:
            return True
        if isinstance(expires, datetime):
            return now < (expires if expires.tzinfo else expires.replace(tzinfo=now.tzinfo))
        return now.date() < expires

    def why(self, context: dict[str, Any]) -> dict[str, Any]:
        return {path: _resolve(context, path) for path in self.paths}


@dataclass
class RuleSet:
    rules: list[CompiledRule]
    version: str
    folder: Path
    files: list[str]

    def for_trigger(self, trigger: str) -> list[CompiledRule]:
        return [r for r in self.rules if r.rule.trigger == trigger]

    def get(self, rule_id: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _describe(file: str, data: Any, exc: ValidationError) -> list[str]:
    problems = []
    rules = data.get("rules") if isinstance(data, dict) else None
    for error in exc.errors():
        loc = list(error["loc"])
        where = file
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else {}
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            where += f": rule {rule_id or '#' + str(loc[1] + 1)}"
            loc = loc[2:]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        key = ".".join(str(p) for p in loc) or "(rule)"
        problems.append(f"{where}: {key}: {message}")
    return problems


def _compile_rule(file: str, rule: Rule, version: str) -> tuple[CompiledRule | None, list[str]]:
    where = f"{file}: rule {rule.id}"
    problems = []
    allowed = _ACTIONS_FOR[rule.trigger]
    for action in rule.actions:
        if action.kind not in allowed:
            problems.append(f"{where}: actions: {action.kind} does not apply to {rule.trigger}")
    try:
        program = cel.compile(rule.condition)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return None, [*problems, f"{where}: condition: CEL syntax error: {first}"]
    schema = SCHEMA[rule.trigger]
    unknown_vars = [v for v in program.variables() if v not in schema]
    if unknown_vars:
        problems.append(
            f"{where}: condition: unknown variable {', '.join(unknown_vars)} for {rule.trigger} "
            f"(available: {', '.join(schema)})"
        )
    # Scalars at the top (``change``) are read bare; maps are read through dotted paths.
    paths = [v for v in program.variables() if v in schema and not isinstance(schema[v], dict)]
    paths += field_paths(rule.condition, schema)
    for path in paths:
        problem = _check_path(schema, path)
        if problem:
            problems.append(f"{where}: condition: {problem}")
    if not problems:
        # A dry run on the empty context finds type mismatches (a string compared with a
        # number). Errors that depend on values (division by zero, int('x')) are left to run
        # time, where they are logged with the subject.
        try:
            result = program.execute(_sample(schema))
            if not isinstance(result, bool):
                problems.append(f"{where}: condition: must be true or false, got {type(result).__name__}")
        except TypeError as exc:
            problems.append(f"{where}: condition: type error: {str(exc).splitlines()[0][:200]}")
        except Exception:
            pass
    for example in rule.examples:
        extra = [k for k in example.context if k not in schema]
        if extra:
            problems.append(f"{where}: examples[{example.name}]: unknown context key {', '.join(extra)}")
    if problems:
        return None, problems
    return CompiledRule(rule=rule, file=file, version=version, program=program, paths=paths), []


def _sample(schema: dict[str, Any]) -> dict[str, Any]:
    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items() if k != "*"}
        return node

    return fill(schema)


def with_defaults(trigger: str, context: dict[str, Any]) -> dict[str, Any]:
    """The full documented context for ``trigger``: missing fields take their empty value,
    so a rule never fails on a subject just because a signal source is not connected."""

    def merge(schema: Any, given: Any) -> Any:
        if isinstance(schema, dict) and "*" not in schema:
            given = given if isinstance(given, dict) else {}
            merged = {k: merge(v, given.get(k)) for k, v in schema.items()}
            merged.update({k: v for k, v in given.items() if k not in schema})
            return merged
        if isinstance(schema, dict):
            return given if isinstance(given, dict) else {}
        if given is None:
            return [] if isinstance(schema, list) else schema
        return given

    return merge(SCHEMA[trigger], context)


def load_rules(folder: Path) -> RuleSet:
    """Load and compile every ``*.yaml``/``*.yml`` in ``folder``; raise PlaybookError listing
    every problem (file, rule, field) rather than stopping at the first."""
    if not folder.is_dir():
        raise PlaybookError([f"{folder}: playbooks folder not found"])
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    problems: list[str] = []
    compiled: list[CompiledRule] = []
    seen: dict[str, str] = {}
    folder_hash = hashlib.sha256()
    for path in files:
        raw = path.read_bytes()
        folder_hash.update(path.name.encode() + b"\0" + raw + b"\0")
        version = hashlib.sha256(raw).hexdigest()[:12]
        name = path.name
        try:
            data = yaml.safe_load(raw.decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            problems.append(f"{name}{line}: not valid YAML")
            continue
        try:
            playbook = PlaybookFile.model_validate(data)
        except ValidationError as exc:
            problems.extend(_describe(name, data, exc))
            continue
        for rule in playbook.rules:
            if rule.id in seen:
                problems.append(f"{name}: rule {rule.id}: id: duplicate (also in {seen[rule.id]})")
                continue
            seen[rule.id] = name
            result, rule_problems = _compile_rule(name, rule, version)
            problems.extend(rule_problems)
            if result is not None:
                compiled.append(result)
    if problems:
        raise PlaybookError(problems)
    return RuleSet(
        rules=compiled, version=folder_hash.hexdigest()[:12], folder=folder, files=[p.name for p in files]
    )


# --- evaluation ----------------------------------------
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
    result = Evaluation(trigger=trigger, subject_type=_SUBJECT_OF[trigger], subject_id=subject_id)
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
        note = None
        limit = compiled.rule.guardrails.max_actions_per_day
        if (
            mode == "live"
            and limit is not None
            and live_count_today
            and live_count_today(compiled.id) >= limit
        ):
            mode, note = "shadow", f"max_actions_per_day ({limit}) reached"
        result.matches.append(Match(compiled, mode, list(compiled.rule.actions), compiled.why(full), note))
    return result


def record_hits(
    session: Session, evaluation: Evaluation, now: datetime, account_id: str | None = None
) -> None:
    for match in evaluation.matches:
        session.add(
            RuleHit(
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
    return _TEMPLATES.from_string(template).render(**context)


def start_of_day(now: datetime, tz: Any) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def live_hits_since(session: Session, since: datetime) -> Callable[[str], int]:
    def count(rule_id: str) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(RuleHit)
                .where(RuleHit.rule_id == rule_id, RuleHit.mode == "live", RuleHit.at >= since)
            )
            or 0
        )

    return count


# --- the live registry ----------------------------------------
class ReloadListener(Protocol):
    def playbook_reload_failed(self, folder: Path, problems: list[str]) -> None: ...


class Playbooks:
    """Holds the live RuleSet and swaps it atomically on reload; a broken folder never
    replaces a working one."""

    def __init__(self, folder: Path, listener: ReloadListener | None = None) -> None:
        self.folder = folder
        self.listener = listener
        self._lock = threading.Lock()
        self._rules = RuleSet(rules=[], version="none", folder=folder, files=[])
        self._fingerprint: str | None = None
        self.last_error: list[str] | None = None

    @property
    def rules(self) -> RuleSet:
        return self._rules

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.suffix in (".yaml", ".yml") and path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()

    def reload(self) -> RuleSet:
        """Load the folder; on error keep the live rules, tell the listener, and raise."""
        fingerprint = self.fingerprint()
        try:
            rules = load_rules(self.folder)
        except PlaybookError as exc:
            with self._lock:
                self._fingerprint = fingerprint
                self.last_error = exc.problems
            log.error("playbook reload failed; keeping the live rules", extra={"problems": exc.problems})
            if self.listener is not None:
                self.listener.playbook_reload_failed(self.folder, exc.problems)
            raise
        with self._lock:
            previous = self._rules.version
            self._rules, self._fingerprint, self.last_error = rules, fingerprint, None
        if previous != rules.version:
            log.info("playbooks loaded", extra={"version": rules.version, "rules": len(rules.rules)})
        return rules

    def reload_if_changed(self) -> bool:
        if self.fingerprint() == self._fingerprint:
            return False
        try:
            self.reload()
        except PlaybookError:
            return False
        return True


# --- examples next to each rule ----------------------------------------
@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    example: str
    expected: str
    got: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.expected == self.got


def run_examples(rules: RuleSet, rule_id: str | None = None) -> list[ExampleResult]:
    results = []
    for compiled in rules.rules:
        if rule_id and compiled.id != rule_id:
            continue
        for example in compiled.rule.examples:
            context = cel.Context()
            context.update(with_defaults(compiled.rule.trigger, example.context))
            try:
                got = "match" if compiled.program.execute(context) is True else "no match"
                results.append(ExampleResult(compiled.id, example.name, example.expect, got))
            except Exception as exc:
                results.append(
                    ExampleResult(
                        compiled.id, example.name, example.expect, "error", str(exc).splitlines()[0]
                    )
                )
    return results


def parse_since(text: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w`` or an ISO date/time."""
    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(hours=amount) * {"h": 1, "d": 24, "w": 168}[unit]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: use 30d, 12h, 2w or an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=now.tzinfo)


# --- cases ----------------------------------------
JOB_POST = "rules.post"
JOB_OPEN_INVESTIGATION = "investigation.open"


def case_context(
    case: Any,
    accounts: list[str],
    account: dict[str, Any],
    now: datetime,
    change: str | None = None,
    as_created: bool = False,
) -> dict[str, Any]:
    """The documented ``case`` context (docs/playbooks.md) for a Case row."""
    context: dict[str, Any] = {
        "case": {
            "id": case.ref,
            "category": case.category,
            "priority": case.priority,
            "status": "new" if as_created else case.status,
            "source": case.source,
            "text": case.text,
            "author": case.author or "",
            "author_is_bot": bool(case.author_is_bot),
            "channel": case.channel,
            "accounts": accounts,
            "labels": [] if as_created else list(case.labels or []),
            "escalations": 0 if as_created else case.escalations,
            "outcome": "" if as_created else (case.outcome or ""),
            "age_minutes": 0 if as_created else int((now - case.created_at).total_seconds() // 60),
        },
        "account": account,
    }
    if change is not None:
        context["change"] = change
    return context


class RuleRunner:
    """Evaluates one trigger for one subject inside the caller's transaction and carries out
    the actions every subject shares (route, notify, open_investigation) as queued posts, so
    what a rule did, its rule_hits row and the state change that fired it commit together.
    Subject-specific actions (a case's priority, a request's approvals) are ``_own``."""

    def __init__(self, playbooks: Playbooks, features: Any, clock: Any, config: Any) -> None:
        self.playbooks = playbooks
        self.features = features
        self.clock = clock
        self.config = config

    def run(
        self, session: Session, trigger: str, subject: Any, subject_id: str, context: dict[str, Any]
    ) -> tuple[Evaluation, dict[str, Any]]:
        now = self.clock.now()
        evaluation = evaluate(
            self.playbooks.rules,
            trigger,
            subject_id,
            context,
            now,
            live_hits_since(session, start_of_day(now, self.config.tz)),
        )
        changes: dict[str, Any] = {}
        if not evaluation.matches:
            return evaluation, changes
        record_hits(session, evaluation, now, (context.get("account") or {}).get("id"))
        occasion = f"{context.get('change') or trigger}:{getattr(subject, 'escalations', 0)}"
        for match in evaluation.matches:
            if match.mode != "live":
                continue
            for action in match.actions:
                if not self._own(session, subject, match, action, changes):
                    self._shared(session, subject, subject_id, match, action, context, occasion)
        session.flush()
        return evaluation, changes

    def _own(
        self, session: Session, subject: Any, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        return False

    def _channel(self, ref: str) -> str:
        return getattr(self.config.channels, ref) if ref in CHANNEL_ALIASES else ref

    @staticmethod
    def _label(subject: Any, subject_id: str) -> str:
        """As the subject stands now, after the actions before this one (set_priority, …)."""
        if hasattr(subject, "priority") and hasattr(subject, "category"):
            return f"{subject_id} ({subject.priority}, {subject.category})"
        return subject_id

    def _shared(
        self,
        session: Session,
        subject: Any,
        subject_id: str,
        match: Match,
        action: Action,
        context: dict[str, Any],
        occasion: str,
    ) -> None:
        from workflows.jobs import enqueue

        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "route":
            label = self._label(subject, subject_id)
            text = f"{label} matched playbook rule {rule}: {match.rule.rule.description}"
            enqueue(
                session,
                self.clock,
                JOB_POST,
                {"channel": self._channel(value), "text": text},
                key=f"route:{rule}:{subject_id}:{occasion}",
            )
        elif kind == "notify":
            try:
                text = render_notification(value["template"], context)
            except TemplateError as exc:
                RULE_ERRORS.labels(rule=rule).inc()
                log.warning(
                    "notify template failed", extra={"rule": rule, "subject": subject_id, "error": str(exc)}
                )
                return
            enqueue(
                session,
                self.clock,
                JOB_POST,
                {"channel": self._channel(value["channel"]), "text": text},
                key=f"notify:{rule}:{subject_id}:{occasion}",
            )
        elif kind == "open_investigation":
            accounts = [a for a in _accounts_in(context) if a][:5]
            for account in accounts:
                enqueue(
                    session,
                    self.clock,
                    JOB_OPEN_INVESTIGATION,
                    {"account_id": account, "rule": rule, "subject": subject_id},
                    key=f"investigate:{rule}:{subject_id}:{account}",
                )


def _accounts_in(context: dict[str, Any]) -> list[str]:
    for key in ("case", "request"):
        if key in context:
            return list(context[key].get("accounts") or [])
    for key in ("report", "signal"):
        if key in context:
            return [context[key].get("account_id", "")]
    return [context.get("account", {}).get("id", "")]


class CaseRules(RuleRunner):
    """case.created / case.updated."""

    def apply(self, session: Session, case: Any, trigger: str, change: str | None = None) -> Evaluation:
        from store.cases import accounts_of

        now = self.clock.now()
        accounts = accounts_of(session, case.id)
        account = self.features.for_account(session, accounts[0] if accounts else None, now)
        context = case_context(case, accounts, account, now, change)
        evaluation, changes = self.run(session, trigger, case, case.ref, context)
        if evaluation.matches:
            rules = evaluation.summary()
            data = {"trigger": trigger, "rules": rules, "changes": changes}
            timeline.note(session, case.id, "rules_matched", data, at=now)
        return evaluation

    def _own(
        self, session: Session, case: Any, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "set_category":
            case.category = changes["category"] = value
        elif kind == "set_priority":
            case.priority = changes["priority"] = value
            case.sla_due_at = case.created_at + self.config.sla.for_priority(value)
        elif kind == "add_label":
            if value not in (case.labels or []):
                case.labels = [*(case.labels or []), value]
                changes.setdefault("labels", []).append(value)
        elif kind == "recommend":
            if not any(r.get("rule") == rule for r in case.recommendations or []):
                case.recommendations = [*(case.recommendations or []), {"rule": rule, "text": value}]
        elif kind == "require_second_review":
            case.second_review = f"{value} ({rule})"
        else:
            return False
        return True


class RequestRules(RuleRunner):
    """enforcement.requested: rules may ask for one more approval or add a hint to the card;
    they never approve, reject or execute anything."""

    def apply(self, session: Session, request: Any) -> Evaluation:
        from store.enforcement import EnforcementAction, EnforcementEvent

        now = self.clock.now()
        accounts = list(
            session.scalars(
                select(EnforcementAction.account_id)
                .where(EnforcementAction.request_id == request.id)
                .order_by(EnforcementAction.id)
                .limit(50)
            )
        )
        account = self.features.for_account(session, accounts[0] if accounts else None, now)
        context = {
            "request": {
                "id": request.ref,
                "action": request.action,
                "reason_code": request.reason_code,
                "accounts": accounts,
                "count": request.account_count,
                "requester": request.requester,
                "note": request.note or "",
                "evidence": request.evidence or "",
            },
            "account": account,
        }
        evaluation, changes = self.run(session, "enforcement.requested", request, request.ref, context)
        if evaluation.matches:
            rules = evaluation.summary()
            session.add(
                EnforcementEvent(
                    request_id=request.id,
                    account_id=None,
                    at=now,
                    actor="vigil",
                    kind="rules_matched",
                    data={"rules": rules, "changes": changes},
                )
            )
        return evaluation

    def _own(
        self, session: Session, request: Any, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        rule, kind, value = match.rule.id, action.kind, action.value
        if kind == "recommend":
            if not any(r.get("rule") == rule for r in request.recommendations or []):
                request.recommendations = [*(request.recommendations or []), {"rule": rule, "text": value}]
        elif kind == "require_second_review":
            if request.second_review is None:  # one extra approver, however many rules ask
                request.approvals_needed += 1
                changes["approvals_needed"] = request.approvals_needed
            request.second_review = f"{value} ({rule})"
        else:
            return False
        return True


class SignalRules(RuleRunner):
    """report.received, signal.ingested and anomaly.detected: the hooks the signals capability
    calls after its data is committed (workflows.signals.RuleHooks). Reports keep the default
    case linking; rules add to that case, route, notify or open investigations."""

    def __init__(
        self, playbooks: Playbooks, features: Any, clock: Any, config: Any, db: Any, linker: Any
    ) -> None:
        super().__init__(playbooks, features, clock, config)
        self.db = db
        self.linker = linker  # DefaultRuleHooks: the newest open case that mentions the account
        self.max_signals = 5000  # per batch: rules look at the newest ones of a flood

    def _wanted(self, trigger: str) -> bool:
        now = self.clock.now()
        return any(rule.active(now) for rule in self.playbooks.rules.for_trigger(trigger))

    def reports_received(self, reports: list[Any]) -> dict[int, int | None]:
        links = self.linker.reports_received(reports)
        if not reports or not self._wanted("report.received"):
            return links
        from store.cases import Case

        with self.db.transaction() as session:
            cache: dict[str, dict[str, Any]] = {}
            for report in reports:
                case_id = links.get(report.id)
                context = {
                    "report": {
                        "id": f"report:{report.id}",
                        "account_id": report.account_id,
                        "reporter": report.reporter or "",
                        "reason": report.reason or "",
                        "text": report.text or "",
                        "case_id": f"CASE-{case_id}" if case_id else "",
                    },
                    "account": self._account(session, report.account_id, cache),
                }
                case = session.get(Case, case_id) if case_id else None
                self.run(session, "report.received", case, f"report:{report.id}", context)
        return links

    def signal_ingested(self, batch: Any) -> None:
        if not batch.accounts or not self._wanted("signal.ingested"):
            return
        from store.signals import Signal

        with self.db.transaction() as session:
            query = select(Signal).where(Signal.account_id.in_(batch.accounts[:1000]))
            if getattr(batch, "received_at", None) is not None:
                query = query.where(Signal.received_at == batch.received_at)
            rows = session.scalars(query.order_by(Signal.id.desc()).limit(self.max_signals)).all()
            cache: dict[str, dict[str, Any]] = {}
            for signal in rows:
                context = {
                    "signal": {
                        "id": f"signal:{signal.id}",
                        "type": signal.type,
                        "account_id": signal.account_id,
                        "value": float(signal.value or 0.0),
                        "attributes": dict(signal.attributes or {}),
                    },
                    "account": self._account(session, signal.account_id, cache),
                }
                self.run(session, "signal.ingested", None, f"signal:{signal.id}", context)

    def anomaly_detected(self, anomaly: Any) -> None:
        if not self._wanted("anomaly.detected"):
            return
        top = [
            a.get("account_id") for a in (anomaly.data or {}).get("top_accounts", []) if isinstance(a, dict)
        ]
        context = {
            "anomaly": {
                "id": f"anomaly:{anomaly.id}",
                "signal_type": anomaly.signal_type,
                "dimension": anomaly.dimension,
                "value": anomaly.dim_value,
                "kind": anomaly.kind,
                "observed": float(anomaly.observed),
                "expected": float(anomaly.baseline),
                "score": float(anomaly.score),
            },
            "account": {"id": top[0] if top and top[0] else ""},
        }
        with self.db.transaction() as session:
            self.run(session, "anomaly.detected", None, f"anomaly:{anomaly.id}", context)

    def _account(self, session: Session, account_id: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if account_id not in cache:
            cache[account_id] = self.features.for_account(session, account_id, self.clock.now())
        return cache[account_id]

    def _own(
        self, session: Session, case: Any, match: Match, action: Action, changes: dict[str, Any]
    ) -> bool:
        """A report's label or hint lands on the case it was linked to."""
        if case is None or action.kind not in ("add_label", "recommend"):
            return False
        if action.kind == "add_label" and action.value not in (case.labels or []):
            case.labels = [*(case.labels or []), action.value]
        elif action.kind == "recommend" and not any(
            r.get("rule") == match.rule.id for r in case.recommendations or []
        ):
            case.recommendations = [
                *(case.recommendations or []),
                {"rule": match.rule.id, "text": action.value},
            ]
        return True


class PlaybookRuleMatches:
    """For investigations: the rules that matched subjects of this account, newest first."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def for_account(self, account_id: str) -> list[Any]:
        from store.playbooks import hits_for_account
        from workflows.investigations import RuleMatch

        with self.db.read() as session:
            hits = hits_for_account(session, account_id)
            return [
                RuleMatch(
                    at=hit.at, rule=hit.rule_id, detail=f"{hit.mode} on {hit.subject_id} ({hit.trigger})"
                )
                for hit in hits
            ]


def register_jobs(runner: Any, notifier: Any) -> None:
    """Posts queued by route/notify actions (investigations register their own job)."""

    def post(payload: dict[str, Any]) -> None:
        notifier.post(payload["channel"], payload["text"])

    runner.register(JOB_POST, post)


# --- backtest ----------------------------------------
@dataclass
class RuleBacktest:
    rule_id: str
    trigger: str
    mode: str
    evaluated: int = 0
    matched: int = 0
    live_matched: int = 0
    newly_matched: int = 0  # matches now, did not match live
    no_longer_matched: int = 0  # matched live, does not match now
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    unlabelled: int = 0
    errors: int = 0
    note: str = ""

    @property
    def precision(self) -> float | None:
        judged = self.true_positives + self.false_positives
        return self.true_positives / judged if judged else None

    @property
    def recall(self) -> float | None:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else None


class LabelSource(Protocol):
    """Was this subject, in hindsight, abuse (True), not abuse (False), or unknown (None)?"""

    def label(self, session: Session, case: Any) -> bool | None: ...


class CaseOutcomeLabels:
    """Cases resolved as actioned are abuse; as no action, not abuse. Sources added later
    (suspensions that were reversed) can overrule through ``overrides``."""

    def __init__(self, overrides: list[LabelSource] | None = None) -> None:
        self.overrides = overrides or []

    def label(self, session: Session, case: Any) -> bool | None:
        for source in self.overrides:
            verdict = source.label(session, case)
            if verdict is not None:
                return verdict
        return {"actioned": True, "no_action": False}.get(case.outcome or "")


def backtest(
    session: Session,
    rules: RuleSet,
    since: datetime,
    until: datetime,
    features: Any,
    rule_id: str | None = None,
    labels: LabelSource | None = None,
) -> list[RuleBacktest]:
    """Replay stored cases through ``rules`` as they stood when each case was opened, and
    compare with what live rules did and with the outcomes recorded since."""
    from store.cases import Case, CaseEvent, accounts_of

    labels = labels or CaseOutcomeLabels()
    selected = [r for r in rules.rules if rule_id is None or r.id == rule_id]
    results = {r.id: RuleBacktest(r.id, r.rule.trigger, r.rule.mode) for r in selected}
    for r in selected:
        if r.rule.trigger != "case.created":
            results[r.id].note = f"no replayable history for {r.rule.trigger} yet"
    replayable = RuleSet(
        [r for r in selected if r.rule.trigger == "case.created"], rules.version, rules.folder, rules.files
    )
    if not replayable.rules:
        return list(results.values())
    live = {
        (hit.rule_id, hit.subject_id)
        for hit in session.scalars(
            select(RuleHit).where(
                RuleHit.trigger == "case.created",
                RuleHit.mode == "live",
                RuleHit.at >= since,
                RuleHit.at < until + timedelta(minutes=1),
            )
        )
    }
    cases = session.scalars(
        select(Case).where(Case.created_at >= since, Case.created_at <= until).order_by(Case.id)
    ).all()
    for case in cases:
        created = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "created")
        ).first()
        triage = (created.data or {}).get("triage") if created else None
        accounts = accounts_of(session, case.id)
        account = features.for_account(session, accounts[0] if accounts else None, case.created_at)
        context = case_context(case, accounts, account, case.created_at, as_created=True)
        if isinstance(triage, dict):  # what the case looked like before any rule touched it
            context["case"]["category"] = triage.get("category", case.category)
            context["case"]["priority"] = triage.get("priority", case.priority)
        evaluation = evaluate(replayable, "case.created", case.ref, context, case.created_at, everything=True)
        matched = {m.rule.id for m in evaluation.matches}
        errored = {rule for rule, _ in evaluation.errors}
        verdict = labels.label(session, case)
        for compiled in replayable.rules:
            row = results[compiled.id]
            row.evaluated += 1
            if compiled.id in errored:
                row.errors += 1
                continue
            hit, was_live = compiled.id in matched, (compiled.id, case.ref) in live
            row.matched += hit
            row.live_matched += was_live
            row.newly_matched += hit and not was_live
            row.no_longer_matched += was_live and not hit
            if verdict is None:
                row.unlabelled += hit
            elif hit:
                row.true_positives += verdict
                row.false_positives += not verdict
            elif verdict:
                row.false_negatives += 1
    return list(results.values())

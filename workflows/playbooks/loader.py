"""The playbook file format and its compiler: YAML files in a folder become a RuleSet, or a
PlaybookError listing every problem (file, rule, field) rather than the first."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

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

from workflows.cases import CATEGORIES
from workflows.config import check_channel_id
from workflows.playbooks.context import SCHEMA, Trigger, sample

# Notification templates: sandboxed (a rule author cannot reach Python objects) and strict
# (a misspelt field fails instead of rendering empty). Not HTML-escaped: the text is plain,
# and the Slack adapter escapes it once.
TEMPLATES = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

CHANNEL_ALIASES = ("alerts", "engineering", "digest", "approvals")

# Which actions make sense where; everything else is a load error naming the rule.
ACTIONS_FOR: dict[str, set[str]] = {
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
            TEMPLATES.from_string(value)
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


# --- field paths ----------------------------------------
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


def resolve(context: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, None where the path leaves the maps."""
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def check_path(schema: dict[str, Any], path: str) -> str | None:
    """Why ``path`` is not in ``schema`` (naming the fields known there), or None if it is."""
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


# --- compiled ----------------------------------------
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
        """Evaluated at all: not off, not past ``guardrails.expires_at``."""
        if self.rule.mode == "off":
            return False
        expires = self.rule.guardrails.expires_at
        if expires is None:
            return True
        if isinstance(expires, datetime):
            return now < (expires if expires.tzinfo else expires.replace(tzinfo=now.tzinfo))
        return now.date() < expires

    def why(self, context: dict[str, Any]) -> dict[str, Any]:
        """The values of the fields the condition read: what a hit records as its reason."""
        return {path: resolve(context, path) for path in self.paths}


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


def playbook_files(folder: Path) -> list[Path]:
    """The folder's ``*.yaml``/``*.yml`` files, by name: what a RuleSet is loaded from."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


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
    allowed = ACTIONS_FOR[rule.trigger]
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
        problem = check_path(schema, path)
        if problem:
            problems.append(f"{where}: condition: {problem}")
    if not problems:
        # A dry run on the empty context finds type mismatches (a string compared with a
        # number). Errors that depend on values (division by zero, int('x')) are left to run
        # time, where they are logged with the subject.
        try:
            result = program.execute(sample(rule.trigger))
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


def load_rules(folder: Path) -> RuleSet:
    """Load and compile every ``*.yaml``/``*.yml`` in ``folder``; raise PlaybookError listing
    every problem (file, rule, field) rather than stopping at the first."""
    if not folder.is_dir():
        raise PlaybookError([f"{folder}: playbooks folder not found"])
    files = playbook_files(folder)
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

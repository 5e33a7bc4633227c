"""Configuration: the YAML file (``VIGIL_CONFIG``) and the runtime environment.

Both are validated by pydantic at start so a wrong key fails loudly, naming the key,
before Vigil touches Slack or the database.

The module is long on purpose, because every key carries its description here: docs/config.md
is generated from these models (`vigil config docs`), so the reference lives beside the rule.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_HELP = "use a duration like 90s, 30m, 1h, 1d or 1h30m"


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``30m``, ``1h``, ``1d``, ``1h30m`` → timedelta (strictly positive)."""
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    match = _DURATION.match(text)
    if not text or not match:
        raise ValueError(f"invalid duration {value!r}: {DURATION_HELP}")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if delta <= timedelta(0):
        raise ValueError(f"duration {value!r} must be longer than zero")
    return delta


def format_duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts) or "0s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_PRINCIPAL_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_REACTION = re.compile(r"^[a-z0-9_+'\-]+$")


def check_channel_id(value: Any) -> str:
    if not isinstance(value, str) or not _CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (C…/G…)")
    return value


def _principal_id(value: Any) -> str:
    if not isinstance(value, str) or not _PRINCIPAL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (U…/W…) or user group id (S…)")
    return value


def _reaction(value: Any) -> str:
    name = str(value).strip().strip(":")
    if not _REACTION.match(name):
        raise ValueError(f"{value!r} is not a reaction name (e.g. eyes, white_check_mark)")
    return name


ChannelId = Annotated[str, BeforeValidator(check_channel_id)]
PrincipalId = Annotated[str, BeforeValidator(_principal_id)]
ReactionName = Annotated[str, BeforeValidator(_reaction)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channels(_Strict):
    escalations: list[ChannelId] = Field(
        min_length=1, description="Channels whose new top-level messages become cases."
    )
    approvals: ChannelId = Field(description="Where enforcement requests are posted for approval.")
    digest: ChannelId = Field(
        description="Where the weekly digest, the investigation review and the shift summary go."
    )
    alerts: ChannelId = Field(
        description="SLA breaches, anomaly alerts, escalations and investigations opened by rules."
    )
    engineering: ChannelId = Field(
        description="Manual-mode hand-offs of approved actions, for the engineers who execute them."
    )


class Roles(_Strict):
    analysts: list[PrincipalId] = Field(
        default_factory=list,
        description="Claim and resolve cases, investigate, request suspensions and reinstatements.",
    )
    approvers: list[PrincipalId] = Field(
        default_factory=list,
        description="Approve or reject enforcement requests (never their own); may act as analysts.",
    )
    admins: list[PrincipalId] = Field(
        default_factory=list,
        description="Everything approvers may, one admin counts as two approvals, may mark hand-offs done.",
    )
    # Who may record a manual hand-off as executed (admins always may). Outside the
    # analyst < approver < admin ladder: executing by hand is another team's job.
    engineers: list[PrincipalId] = Field(
        default_factory=list,
        description="Who may record a manual hand-off as executed (Mark all done); outside the role ladder.",
    )


class Reactions(_Strict):
    claim: ReactionName = Field(
        default="eyes", description="Reaction that claims a case (remove it to release)."
    )
    resolve: ReactionName = Field(
        default="white_check_mark", description="Reaction that asks for the outcome and resolves the case."
    )
    escalate: ReactionName = Field(
        default="rotating_light",
        description="Reaction that raises the priority one level and recomputes the SLA.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> Reactions:
        names = [self.claim, self.resolve, self.escalate]
        if len(set(names)) != len(names):
            raise ValueError("claim, resolve and escalate must be different reactions")
        return self


class Sla(_Strict):
    P1: Duration = Field(default=timedelta(hours=1), description="Time to resolve a P1 case.")
    P2: Duration = Field(default=timedelta(hours=4), description="Time to resolve a P2 case.")
    P3: Duration = Field(default=timedelta(hours=24), description="Time to resolve a P3 case.")
    P4: Duration = Field(default=timedelta(hours=72), description="Time to resolve a P4 case.")
    appeal: Duration = Field(
        default=timedelta(hours=72), description="An appeal case's deadline, whatever its priority."
    )

    def for_priority(self, priority: str) -> timedelta:
        return getattr(self, priority)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Digest(_Strict):
    weekday: Weekday = Field(
        default="mon", description="Day the weekly digest and investigation review are posted."
    )
    time: str = Field(default="09:00", description="Time of day (HH:MM, in `timezone`) of the weekly posts.")
    shift_time: str = Field(
        default="08:00",
        description="Time of day (HH:MM) of the daily shift summary, at the start of the shift.",
    )

    @field_validator("weekday", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("time", "shift_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", value)
        if not match:
            raise ValueError(f"{value!r} is not a time of day (HH:MM, 24-hour)")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @property
    def hour(self) -> int:
        return int(self.time.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.time.split(":")[1])


class EnforcementSettings(_Strict):
    """``enforcement:`` in vigil.yaml: limits, approvals, the request TTL, ids and reasons."""

    bulk_max: int = Field(default=10_000, ge=1, le=1_000_000, description="Most accounts in one request.")
    concurrency: int = Field(
        default=16, ge=1, le=512, description="Enforcement API calls in flight at once, per process."
    )
    second_approval_over: int = Field(
        default=1000, ge=1, description="Requests for more accounts need two approvers (or one admin)."
    )
    request_ttl: Duration = Field(
        default=timedelta(hours=72),
        description="A request nobody approved within this long expires; a later Approve is refused.",
    )
    account_id_pattern: str = Field(
        default=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
        description="Regular expression an account id must match (commands, files, signals).",
    )
    reason_codes: list[str] = Field(
        description="Reasons an analyst picks for a request (lower_snake_case, unique).",
        default_factory=lambda: [
            "spam",
            "fraud",
            "phishing",
            "harassment",
            "ban_evasion",
            "payment_abuse",
            "other",
        ],
        min_length=1,
    )

    @field_validator("account_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("reason_codes")
    @classmethod
    def _unique_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not re.match(r"^[a-z0-9_]+$", code)]
        if bad:
            raise ValueError(f"reason codes are lower_snake_case words: {bad}")
        if len(set(value)) != len(value):
            raise ValueError("reason codes must be unique")
        return value

    def account_id_regex(self) -> re.Pattern[str]:
        return re.compile(self.account_id_pattern)


_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _keys(value: list[str]) -> list[str]:
    bad = [key for key in value if not _KEY.match(key)]
    if bad:
        raise ValueError(f"attribute names are letters, digits, _ . - (at most 64): {bad}")
    if len(set(value)) != len(value):
        raise ValueError("names must be unique")
    return value


class AnomalySettings(_Strict):
    """How loud a change must be before Vigil posts it (see README, "Anomalies")."""

    baseline_weeks: int = Field(
        default=4, ge=1, le=12, description="Weeks back whose same hour of the week forms the baseline."
    )
    min_weeks: int = Field(
        default=2, ge=1, le=12, description="Fewer weeks of history than this: no verdict yet."
    )
    threshold: float = Field(
        default=4.0, gt=0, description="Robust z-score (median/MAD) that flags a spike or drop."
    )
    min_count: int = Field(
        default=10, ge=1, description="A spike needs at least this many signals in the hour."
    )
    min_drop_baseline: float = Field(
        default=20, ge=1, description="Drops are flagged only on series whose baseline is at least this busy."
    )
    top_share: float = Field(
        default=0.2, gt=0, le=1, description="Share of its type a new top contributor must reach."
    )
    top_n: int = Field(default=3, ge=1, le=20, description='"Top" means among the N biggest values.')
    merge_gap: Duration = Field(
        default=timedelta(hours=3),
        description="Anomalous hours of a series at most this far apart are one incident.",
    )
    close_after: Duration = Field(
        default=timedelta(hours=6),
        description="An incident closes once its series has been back within bounds this long.",
    )
    max_alerts_per_day: int = Field(
        default=3,
        ge=1,
        description="New incidents posted per series per day; beyond that they are stored and summarised.",
    )

    @model_validator(mode="after")
    def _weeks(self) -> AnomalySettings:
        if self.min_weeks > self.baseline_weeks:
            raise ValueError("min_weeks cannot exceed baseline_weeks")
        if self.close_after <= self.merge_gap:
            raise ValueError("close_after must be longer than merge_gap")
        return self


class CalendarSettings(_Strict):
    """Days whose volumes are expected to be unusual (see docs/anomalies.md): still judged, but
    flagged only far beyond the threshold, and labelled."""

    countries: list[str] = Field(
        default_factory=list, description="Public holidays of these countries (ISO 3166 codes: US, DE, …)."
    )
    dates: dict[date, str] = Field(
        default_factory=dict, description="Named dates, e.g. `2026-11-27: Black Friday`."
    )
    expected: Literal["quiet", "silent"] = Field(
        default="quiet",
        description="Expected incidents: posted labelled without a mention (quiet), or stored only (silent).",
    )
    holiday_factor: float = Field(
        default=2.0, ge=1, description="On expected days the threshold is multiplied by this."
    )

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        if not value:  # the usual case: every command reads the config, none should load holidays
            return value
        # The registry's codes (aliases too) are what list_supported_countries() keys on,
        # without loading each country's module for its subdivisions.
        from holidays.registry import EntityLoader

        known = set(EntityLoader.get_country_codes(include_aliases=True))
        bad = [c for c in value if c.upper() not in known]
        if bad:
            raise ValueError(f"unknown holiday countries {bad} (use ISO 3166 codes like US, DE)")
        return [c.upper() for c in value]


class SignalSettings(_Strict):
    types: list[str] = Field(
        description="Signal types accepted (lower_snake_case; `report` must stay).",
        default_factory=lambda: [
            "report",
            "model_score",
            "undeliverable",
            "send_velocity",
            "login",
            "payment_decline",
        ],
        min_length=1,
    )
    dimensions: list[str] = Field(
        default_factory=lambda: ["country", "reason"],
        description="Attributes whose values get their own anomaly series.",
    )
    link_keys: list[str] = Field(
        default_factory=lambda: ["payment_fingerprint", "device_id"],
        description="Attributes that link accounts in investigations.",
    )
    max_attribute_bytes: int = Field(
        default=8192,
        ge=256,
        le=1_048_576,
        description="Largest `attributes` object of one signal, as compact JSON.",
    )
    anomalies: AnomalySettings = Field(
        default_factory=AnomalySettings, description="How loud a change must be before Vigil posts it."
    )
    calendar: CalendarSettings = Field(
        default_factory=CalendarSettings,
        description="Expected days (holidays, named dates): judged, flagged only far beyond the threshold.",
    )
    retention: Duration = Field(
        default=timedelta(days=180),
        description="Raw signals older than this are deleted (whole monthly partitions on PostgreSQL).",
    )
    rollup_retention: Duration = Field(
        default=timedelta(days=730),
        description="Hourly rollups (the anomaly baselines) are kept this long; not shorter than retention.",
    )

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        bad = [t for t in value if not re.match(r"^[a-z][a-z0-9_]{0,31}$", t)]
        if bad:
            raise ValueError(f"signal types are lower_snake_case words of at most 32 characters: {bad}")
        if "report" not in value:
            raise ValueError("'report' must stay a signal type (abuse reports arrive as signals)")
        return _keys(value)

    @field_validator("dimensions", "link_keys")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return _keys(value)

    @model_validator(mode="after")
    def _retentions(self) -> SignalSettings:
        if self.rollup_retention < self.retention:
            raise ValueError("rollup_retention cannot be shorter than retention (baselines read rollups)")
        return self


class PatternSettings(_Strict):
    """Abuse-pattern clustering (workflows/patterns): how far back it reads, how big a group
    must be to count, and when one is worth an alert."""

    lookback_days: int = Field(
        default=14, ge=2, le=90, description="Report and case texts of this many days are clustered."
    )
    min_size: int = Field(default=3, ge=2, description="Items a pattern needs.")
    min_accounts: int = Field(
        default=3, ge=2, description="Accounts that must share a link domain or a fingerprint."
    )
    alert_size: int = Field(
        default=5, ge=2, description="A new pattern this big is posted to the alerts channel."
    )
    growth_factor: float = Field(
        default=2.0, gt=1.0, description="A pattern growing this much faster today than yesterday is posted."
    )
    similarity: float = Field(
        default=0.5, gt=0.0, lt=1.0, description="Near-duplicate threshold (Jaccard of character shingles)."
    )
    wording_similarity: float = Field(
        default=0.6, gt=0.0, lt=1.0, description="Similar-wording threshold (TF-IDF cosine)."
    )
    ignore_domains: list[str] = Field(
        default_factory=lambda: ["slack.com", "google.com", "youtube.com", "apple.com"],
        description="Link domains too common to define a pattern.",
    )


AI_TASKS = ("summarize", "triage", "digest_narrative", "pattern_label")


class AiTask(_Strict):
    model: str | None = Field(
        default=None, description="Model for this task; unset: `ai.model`, then VIGIL_AI_MODEL."
    )
    timeout: Duration | None = Field(default=None, description="Timeout for this task; unset: `ai.timeout`.")


class AiSettings(_Strict):
    """The optional `ai:` section; without OPENAI_API_KEY none of it is used (offline)."""

    model: str | None = Field(default=None, description="Model for every task; unset: VIGIL_AI_MODEL.")
    timeout: Duration = Field(default=timedelta(seconds=20), description="Timeout of one model call.")
    daily_token_budget: int = Field(
        default=200_000,
        ge=0,
        description="Tokens in + out per UTC day; once spent, every task answers offline until midnight.",
    )
    max_input_chars: int = Field(
        default=12_000, ge=500, description="Longer input is cut (head and tail kept) and the answer says so."
    )
    tasks: dict[str, AiTask] = Field(
        default_factory=dict,
        description="Per-task overrides: summarize, triage, digest_narrative, pattern_label.",
    )

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, value: dict[str, AiTask]) -> dict[str, AiTask]:
        unknown = sorted(set(value) - set(AI_TASKS))
        if unknown:
            raise ValueError(f"unknown AI task(s) {', '.join(unknown)}; one of {', '.join(AI_TASKS)}")
        return value


class CoverageSettings(_Strict):
    """``coverage:`` in vigil.yaml: what counts as a model detection, as late, and how far
    back an account's first signal is looked for."""

    model_score_at_least: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A `model_score` signal at least this high counts as a model detection.",
    )
    late_after: Duration = Field(
        default=timedelta(hours=24),
        description="Detection later than this after the first signal counts as late.",
    )
    lookback: Duration = Field(
        default=timedelta(days=30),
        description="How far back an account's first signal of the abuse is looked for.",
    )


class HandoffSettings(_Strict):
    """``handoff:`` in vigil.yaml: where Jira tickets go, and which Jira field gets which part
    of a requirement (e.g. ``impact: customfield_10042``)."""

    jira_project: str = Field(
        default="ENG", pattern=r"^[A-Z][A-Z0-9_]{0,19}$", description="Jira project key of new tickets."
    )
    issue_type: str = Field(default="Task", description="Jira issue type of new tickets.")
    field_map: dict[Literal["problem", "evidence", "impact", "mitigation", "priority"], str] = Field(
        default_factory=dict,
        description="Jira field of each part of a requirement (e.g. `impact: customfield_10042`).",
    )
    poll_every: Duration = Field(
        default=timedelta(minutes=10), description="How often open tickets' status is polled back."
    )
    confluence_space: str = Field(
        default="TNS",
        pattern=r"^[A-Za-z0-9~][A-Za-z0-9_~-]{0,254}$",
        description="Confluence space key of the weekly review pages.",
    )


# The EEA's member states: the DSA territorial scope's allowed values.
EEA = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]


class DsaSettings(_Strict):
    """``dsa:`` in vigil.yaml: statements of reasons (docs/dsa.md). Present means enabled;
    every reason code of a suspension must then map to a Transparency Database category."""

    categories: dict[str, str] = Field(
        default_factory=dict,
        description="Reason code → the database's `STATEMENT_CATEGORY_*` (the statement's dsa_category).",
    )
    illegal: dict[str, str] = Field(
        default_factory=dict,
        description="Reason codes decided as illegal content, with their legal ground; the rest are terms.",
    )
    terms_ground: str = Field(
        default="Terms of Service",
        min_length=1,
        max_length=500,
        description="The ground of every incompatible-content decision.",
    )
    territorial_scope: list[str] = Field(
        default_factory=lambda: list(EEA),
        min_length=1,
        description="EEA country codes the decisions apply to.",
    )
    content_type: list[str] = Field(
        default_factory=lambda: ["CONTENT_TYPE_TEXT"],
        min_length=1,
        description="The statements' content_type.",
    )
    submit: bool = Field(
        default=False,
        description="Submit to the Transparency Database (needs VIGIL_DSA_URL); off: kept and exportable.",
    )
    appeal_window: Duration = Field(
        default=timedelta(days=183), description="How long the user can appeal, told in the notice."
    )

    @field_validator("territorial_scope")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if c not in EEA]
        if bad:
            raise ValueError(f"not EEA country codes: {bad}")
        return value

    @field_validator("categories")
    @classmethod
    def _dsa_categories(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [c for c in value.values() if not re.match(r"^STATEMENT_CATEGORY_[A-Z_]+$", c)]
        if bad:
            raise ValueError(f"categories are STATEMENT_CATEGORY_* values: {bad}")
        return value


class QaSettings(_Strict):
    """``qa:`` in vigil.yaml: the daily blind re-review of a sample of decisions."""

    rate: float = Field(default=0.05, gt=0, le=1, description="Share of yesterday's decisions re-reviewed.")
    max_per_day: int = Field(
        default=10, ge=1, le=1000, description="Re-reviews one person gets a day, at most."
    )


class VigilConfig(_Strict):
    timezone: str = Field(
        default="UTC", description="IANA zone of digest times, ISO weeks, report periods and CLI dates."
    )
    channels: Channels = Field(description="The Slack channels Vigil listens to and posts in.")
    roles: Roles = Field(
        default_factory=Roles, description="Who may do what: Slack user ids (U…/W…) or user group ids (S…)."
    )
    reactions: Reactions = Field(
        default_factory=Reactions, description="Reactions on an escalation's message."
    )
    sla: Sla = Field(default_factory=Sla, description="Time to resolve a case, per priority.")
    digest: Digest = Field(default_factory=Digest, description="When the scheduled posts go out.")
    playbooks: Path = Field(
        default=Path("playbooks/"),
        description="Folder of playbook rules (`*.yaml`), relative to the config file.",
    )
    enforcement: EnforcementSettings = Field(
        default_factory=EnforcementSettings,
        description="Suspensions and reinstatements: limits, approvals, ids.",
    )
    signals: SignalSettings = Field(
        default_factory=SignalSettings,
        description="Abuse signals accepted and how anomalies are found in them.",
    )
    ai: AiSettings = Field(
        default_factory=AiSettings,
        description="Optional language-model assistance (summaries, triage suggestions, narrative).",
    )
    patterns: PatternSettings = Field(
        default_factory=PatternSettings, description="Abuse-pattern clustering (`vigil patterns`, hourly)."
    )
    coverage: CoverageSettings = Field(
        default_factory=CoverageSettings,
        description="Detection coverage: how confirmed abuse was first found.",
    )
    handoff: HandoffSettings = Field(
        default_factory=HandoffSettings,
        description="Send to Engineering: Jira project and fields, Confluence space for the weekly review.",
    )
    dsa: DsaSettings | None = Field(
        default=None, description="Statements of reasons (DSA, docs/dsa.md); absent: none drafted."
    )
    qa: QaSettings = Field(
        default_factory=QaSettings, description="Daily blind re-review of a sample of decisions."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _every_reason_mapped(self) -> VigilConfig:
        if self.dsa is not None:
            unmapped = [c for c in self.enforcement.reason_codes if c not in self.dsa.categories]
            if unmapped:
                raise ValueError(f"dsa.categories: reason codes without a category mapping: {unmapped}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ConfigError(Exception):
    """A config file that cannot be used; ``str()`` is one line per problem, each naming the key."""


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        message = message.removeprefix("Value error, ")
        lines.append(f"config error: {key}: {message}")
    return "\n".join(lines)


def parse_config(data: Any, base_dir: Path | None = None) -> VigilConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("config error: (top level): expected a mapping of keys")
    try:
        config = VigilConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if base_dir is not None and not config.playbooks.is_absolute():
        config = config.model_copy(update={"playbooks": (base_dir / config.playbooks).resolve()})
    return config


def load_config(path: str | Path) -> VigilConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"config error: {path}: file not found (copy vigil.example.yaml to {path} "
            "or point VIGIL_CONFIG at your config)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config error: {path}{where}: not valid YAML") from None
    return parse_config(data, base_dir=path.resolve().parent)


class Settings(BaseSettings):
    """The runtime environment (DESIGN.md, "Runtime"). Secrets stay SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = Field(
        default=None, description="Bot token (`xoxb-…`); required for `vigil serve`."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Verifies every HTTP request from Slack; required in HTTP mode."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (`xapp-…`, `connections:write`); only for Socket Mode."
    )
    slack_api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL.")
    # The only origin the bot token is sent to for downloads (files people upload in a modal).
    # Tests point it at their fake Slack; production never needs to set it.
    slack_files_url: str = Field(
        default="https://files.slack.com/",
        description="The only origin uploaded files are fetched from with the bot token.",
    )
    vigil_database_url: str = Field(
        default="sqlite:///vigil.db",
        description="SQLAlchemy URL; `postgresql://…` (psycopg 3: the `postgres` extra) runs replicas.",
    )
    vigil_config: Path = Field(default=Path("vigil.yaml"), description="Path of the YAML config.")
    vigil_enforcement_url: str | None = Field(
        default=None,
        description="The platform's enforcement API; unset: manual mode (actions handed to Engineering).",
    )
    vigil_enforcement_token: SecretStr | None = Field(
        default=None, description="Bearer token Vigil sends to the enforcement API."
    )
    vigil_signals_token: SecretStr | None = Field(
        default=None, description="Bearer token for `POST /api/v1/signals`; unset: the endpoint is disabled."
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="Key of an OpenAI-compatible endpoint; unset: offline (no LLM)."
    )
    openai_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible endpoint."
    )
    vigil_ai_model: str | None = Field(
        default=None, description="Model name for the OpenAI-compatible endpoint."
    )
    vigil_log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="Log format; `auto` is console on a terminal, JSON otherwise."
    )
    vigil_log_level: str = Field(default="INFO", description="Log level.")
    vigil_jira_url: str | None = Field(
        default=None, description="Jira base URL; unset: hand-offs go to the engineering channel."
    )
    vigil_jira_email: str | None = Field(
        default=None,
        description="Jira account email (basic auth with the token); unset: the token is a bearer.",
    )
    vigil_jira_token: SecretStr | None = Field(default=None, description="Jira API token (or bearer token).")
    vigil_jira_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret that `POST /api/v1/jira/webhook` requires."
    )
    vigil_confluence_url: str | None = Field(
        default=None,
        description="Confluence base URL for the weekly review page (uses the Jira credentials).",
    )
    vigil_dsa_url: str | None = Field(
        default=None, description="DSA Transparency Database API; unset: statements are kept, not submitted."
    )
    vigil_dsa_token: SecretStr | None = Field(
        default=None, description="Token of the Transparency Database API."
    )
    vigil_appeals_token: SecretStr | None = Field(
        default=None, description="Bearer token of `POST /api/v1/appeals`; unset: VIGIL_SIGNALS_TOKEN."
    )

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "vigil_enforcement_token",
        "vigil_signals_token",
        "vigil_dsa_token",
        "vigil_appeals_token",
        "openai_api_key",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SLACK_SIGNING_SECRET=` in an env file must fail at start like a missing one, not
        # start Vigil with a secret that can never verify anything.
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("vigil_enforcement_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    def missing_for_serve(self, socket_mode: bool) -> list[str]:
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if socket_mode and self.slack_app_token is None:
            missing.append("SLACK_APP_TOKEN")
        if not socket_mode and self.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET")
        return missing


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None

"""Configuration: the YAML file (``VIGIL_CONFIG``) and the runtime environment.

Both are validated by pydantic at start so a wrong key fails loudly, naming the key,
before Vigil touches Slack or the database.
"""

from __future__ import annotations

import re
from datetime import timedelta
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
    escalations: list[ChannelId] = Field(min_length=1)
    approvals: ChannelId
    digest: ChannelId
    alerts: ChannelId
    engineering: ChannelId


class Roles(_Strict):
    analysts: list[PrincipalId] = Field(default_factory=list)
    approvers: list[PrincipalId] = Field(default_factory=list)
    admins: list[PrincipalId] = Field(default_factory=list)
    # Who may record a manual hand-off as executed (admins always may). Outside the
    # analyst < approver < admin ladder: executing by hand is another team's job.
    engineers: list[PrincipalId] = Field(default_factory=list)


class Reactions(_Strict):
    claim: ReactionName = "eyes"
    resolve: ReactionName = "white_check_mark"
    escalate: ReactionName = "rotating_light"

    @model_validator(mode="after")
    def _distinct(self) -> Reactions:
        names = [self.claim, self.resolve, self.escalate]
        if len(set(names)) != len(names):
            raise ValueError("claim, resolve and escalate must be different reactions")
        return self


class Sla(_Strict):
    P1: Duration = timedelta(hours=1)
    P2: Duration = timedelta(hours=4)
    P3: Duration = timedelta(hours=24)
    P4: Duration = timedelta(hours=72)
    appeal: Duration = timedelta(hours=72)  # an appeal case's deadline, whatever its priority

    def for_priority(self, priority: str) -> timedelta:
        return getattr(self, priority)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Digest(_Strict):
    weekday: Weekday = "mon"
    time: str = "09:00"
    shift_time: str = "08:00"  # the daily shift summary, every day at the start of the shift

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

    bulk_max: int = Field(default=10_000, ge=1, le=1_000_000)
    concurrency: int = Field(default=16, ge=1, le=512)
    second_approval_over: int = Field(default=1000, ge=1)
    # A request nobody approved within this long expires: approving it later is refused.
    request_ttl: Duration = timedelta(hours=72)
    account_id_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
    reason_codes: list[str] = Field(
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

    baseline_weeks: int = Field(default=4, ge=1, le=12)  # same hour of the week, this many weeks back
    min_weeks: int = Field(default=2, ge=1, le=12)  # fewer weeks of history: no verdict yet
    threshold: float = Field(default=4.0, gt=0)  # robust z-score (median/MAD) to flag
    min_count: int = Field(default=10, ge=1)  # a spike needs at least this many in the hour
    min_drop_baseline: float = Field(default=20, ge=1)  # drops only of series at least this busy
    top_share: float = Field(default=0.2, gt=0, le=1)  # a new top contributor's share of its type
    top_n: int = Field(default=3, ge=1, le=20)  # "top" means among the N biggest values

    @model_validator(mode="after")
    def _weeks(self) -> AnomalySettings:
        if self.min_weeks > self.baseline_weeks:
            raise ValueError("min_weeks cannot exceed baseline_weeks")
        return self


class SignalSettings(_Strict):
    types: list[str] = Field(
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
    dimensions: list[str] = Field(default_factory=lambda: ["country", "reason"])
    link_keys: list[str] = Field(default_factory=lambda: ["payment_fingerprint", "device_id"])
    max_attribute_bytes: int = Field(default=8192, ge=256, le=1_048_576)
    anomalies: AnomalySettings = Field(default_factory=AnomalySettings)

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

    # reason code -> STATEMENT_CATEGORY_* (the DSA field is dsa_category; a case's category is another thing)
    categories: dict[str, str] = Field(default_factory=dict)
    # reason codes decided as illegal content (with their legal ground); the rest are terms of service
    illegal: dict[str, str] = Field(default_factory=dict)
    terms_ground: str = Field(default="Terms of Service", min_length=1, max_length=500)
    territorial_scope: list[str] = Field(default_factory=lambda: list(EEA), min_length=1)
    content_type: list[str] = Field(default_factory=lambda: ["CONTENT_TYPE_TEXT"], min_length=1)
    submit: bool = False  # also needs VIGIL_DSA_URL; off: statements are kept and exportable
    appeal_window: Duration = timedelta(days=183)

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

    rate: float = Field(default=0.05, gt=0, le=1)  # share of yesterday's decisions re-reviewed
    max_per_day: int = Field(default=10, ge=1, le=1000)  # re-reviews one person gets a day, at most


class VigilConfig(_Strict):
    timezone: str = "UTC"
    channels: Channels
    roles: Roles = Field(default_factory=Roles)
    reactions: Reactions = Field(default_factory=Reactions)
    sla: Sla = Field(default_factory=Sla)
    digest: Digest = Field(default_factory=Digest)
    playbooks: Path = Path("playbooks/")
    enforcement: EnforcementSettings = Field(default_factory=EnforcementSettings)
    signals: SignalSettings = Field(default_factory=SignalSettings)
    dsa: DsaSettings | None = None  # statements of reasons (docs/dsa.md); absent: none drafted
    qa: QaSettings = Field(default_factory=QaSettings)

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

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # The only origin the bot token is sent to for downloads (files people upload in a modal).
    # Tests point it at their fake Slack; production never needs to set it.
    slack_files_url: str = "https://files.slack.com/"
    vigil_database_url: str = "sqlite:///vigil.db"
    vigil_config: Path = Path("vigil.yaml")
    vigil_enforcement_url: str | None = None
    vigil_enforcement_token: SecretStr | None = None
    vigil_signals_token: SecretStr | None = None
    vigil_dsa_url: str | None = None
    vigil_dsa_token: SecretStr | None = None
    vigil_appeals_token: SecretStr | None = None  # falls back to vigil_signals_token
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    vigil_ai_model: str | None = None
    vigil_log_format: Literal["auto", "json", "console"] = "auto"
    vigil_log_level: str = "INFO"

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

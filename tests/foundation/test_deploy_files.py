"""An operator deploys from the Dockerfile and compose.yaml without reading them closely: the
essentials are checked here, since no Docker engine runs in CI (docs/deploy.md says how the same
steps were run outside Docker)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for word, rest in instructions(text):
        if word == "FROM":
            result.append([])
        result[-1].append((word, rest))
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[list[tuple[str, str]]]:
    return stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_the_image_is_built_in_stages_and_runs_as_a_user(dockerfile: list[list[tuple[str, str]]]) -> None:
    assert len(dockerfile) >= 2, "multi-stage: build, then a runtime stage without build tooling"
    final = dockerfile[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0"), "the runtime stage runs as a non-root user"
    assert any(word == "COPY" and rest.startswith("--from=") for word, rest in final)


def test_matplotlib_has_a_writable_cache_for_that_user(dockerfile: list[list[tuple[str, str]]]) -> None:
    final = dockerfile[-1]
    env = " ".join(rest for word, rest in final if word == "ENV")
    match = re.search(r"MPLCONFIGDIR=(\S+)", env)
    assert match, "MPLCONFIGDIR is set in the runtime stage"
    directory = match.group(1)
    user = [rest for word, rest in final if word == "USER"][-1]
    setup = " ".join(rest for word, rest in final if word == "RUN")
    assert directory.startswith("/tmp/") or re.search(rf"chown\s+{user}\b[^&]*{re.escape(directory)}", setup)


def test_the_image_has_a_healthcheck_and_fetches_only_from_the_registry(
    dockerfile: list[list[tuple[str, str]]],
) -> None:
    final = dockerfile[-1]
    assert any(word == "HEALTHCHECK" and "/healthz" in rest for word, rest in final)
    for stage in dockerfile:
        for word, rest in stage:
            assert not (word == "ADD" and "://" in rest), "no downloads by ADD"
            if word == "RUN":
                assert not re.search(r"\b(curl|wget|git clone)\b", rest), f"no downloads in RUN: {rest}"
    installs = [
        rest for stage in dockerfile for word, rest in stage if word == "RUN" and "pip install" in rest
    ]
    assert installs and all("--index-url" not in rest and "http" not in rest for rest in installs)


def test_migrations_run_once_before_the_replicas_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["vigil", "db", "upgrade"]
    assert migrate.get("restart", "no") == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    app = services["vigil"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "serve" in app["command"] and "upgrade" not in " ".join(app["command"])


def test_two_replicas_share_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app = services["vigil"]
    assert app["deploy"]["replicas"] == 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]
    for name in ("vigil", "migrate"):
        url = urlsplit(services[name]["environment"]["VIGIL_DATABASE_URL"])
        assert url.scheme.startswith("postgresql") and url.hostname == "postgres"
    assert services["vigil"]["environment"] == services["migrate"]["environment"]


def test_the_replicas_have_a_healthcheck_on_healthz(compose: dict[str, Any]) -> None:
    check = compose["services"]["vigil"]["healthcheck"]
    assert "/healthz" in " ".join(check["test"])
    assert check["retries"] >= 1


def test_the_replicas_need_the_slack_token_and_mount_the_config(compose: dict[str, Any]) -> None:
    app = compose["services"]["vigil"]
    assert app["environment"]["SLACK_BOT_TOKEN"].startswith("${SLACK_BOT_TOKEN:?")
    assert any(volume.endswith(":/app/vigil.yaml:ro") for volume in app["volumes"])


def test_the_example_alert_rules_use_only_metrics_vigil_exposes() -> None:
    from prometheus_client import REGISTRY

    import workflows.metrics  # noqa: F401  (declares every metric)

    # A labelled metric has no samples until first used: name the series from each family's type.
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    exposed = {
        family.name + suffix for family in REGISTRY.collect() for suffix in suffixes.get(family.type, [""])
    }
    rules = yaml.safe_load((ROOT / "docs" / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    names = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule)
            names += re.findall(r"\bvigil_[a-z_]+", rule["expr"])
    assert names, "the rules watch Vigil's metrics"
    unknown = sorted(set(names) - exposed)
    assert unknown == [], f"alert rules name metrics Vigil does not expose: {unknown}"

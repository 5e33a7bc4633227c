"""An operator reads docs/config.md to set Vigil up; it is generated from the models that
validate the config, and CI fails the moment someone adds a key without regenerating it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from bot import config_docs
from bot.cli import main
from workflows.config import Settings, VigilConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIG_MD = ROOT / "docs" / "config.md"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_checked_in_reference_is_what_the_models_say() -> None:
    code, output = run("config", "docs", "--check", "--file", str(CONFIG_MD))
    assert code == 0, output
    assert CONFIG_MD.read_text(encoding="utf-8") == config_docs.render()


def test_every_variable_and_key_is_in_the_reference_with_its_default() -> None:
    text = CONFIG_MD.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in text
    keys = [row.key for _, _, rows in config_docs.config_sections() for row in rows]
    assert {"channels.escalations", "sla.P1", "signals.anomalies.top_n", "enforcement.request_ttl"} <= set(
        keys
    )
    for key in keys:
        assert f"| `{key}` |" in text
    assert "| `sla.P2` | duration | `4h` |" in text
    assert "| `channels.approvals` | channel id | required |" in text
    assert "| `SLACK_BOT_TOKEN` | secret | unset |" in text


def test_a_key_added_without_regenerating_fails_the_check(tmp_path: Path) -> None:
    stale = tmp_path / "config.md"
    stale.write_text(config_docs.render().replace("| `sla.P4` |", "| `sla.P5` |"), encoding="utf-8")
    code, output = run("config", "docs", "--check", "--file", str(stale))
    assert code == 1
    assert "out of date" in output and "vigil config docs --write" in output

    code, output = run("config", "docs", "--write", "--file", str(stale))
    assert code == 0, output
    assert run("config", "docs", "--check", "--file", str(stale))[0] == 0


def test_a_missing_file_and_contradictory_flags_are_refused(tmp_path: Path) -> None:
    code, output = run("config", "docs", "--check", "--file", str(tmp_path / "nope.md"))
    assert code == 1 and "does not exist" in output
    code, output = run("config", "docs", "--check", "--write")
    assert code == 2 and "not both" in output


def test_without_flags_it_prints_the_reference() -> None:
    code, output = run("config", "docs")
    assert code == 0
    assert output == config_docs.render()


def test_a_key_without_a_description_cannot_be_documented() -> None:
    class Undescribed(BaseModel):
        surprise: int = 3

    with pytest.raises(ValueError, match=r"Undescribed.surprise has no Field\(description"):
        config_docs.config_sections(Undescribed)


def test_every_field_of_the_real_models_is_described() -> None:
    for model in (Settings, VigilConfig):
        assert config_docs.render()  # raises naming the field otherwise
        assert all(field.description for field in model.model_fields.values())


def test_the_metrics_reference_lists_every_metric_with_its_labels() -> None:
    from prometheus_client import REGISTRY

    import bot.app  # noqa: F401  (imports every module that could declare a metric)
    from bot import metrics_docs

    metrics_md = ROOT / "docs" / "metrics.md"
    code, output = run("config", "metrics", "--check", "--file", str(metrics_md))
    assert code == 0, output
    text = metrics_md.read_text(encoding="utf-8")
    assert "| `vigil_http_requests_total` | counter | `route`, `status` |" in text
    assert "| `vigil_enforcement_call_seconds` | histogram |" in text
    documented = {metrics_docs.series_name(metric) for metric in metrics_docs.declared()}
    registered = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in REGISTRY.collect()
        if family.name.startswith("vigil_")
    }
    # One file declares them all (workflows/metrics.py), so the reference sees them all.
    assert registered == documented

"""Where things live in the signals house: the workflow decides, store/signals.py asks the
database, and nothing here knows about anomalies, Slack or HTTP."""

from __future__ import annotations

from tests.harness.imports import imports_of, reaches
from workflows.config import SignalSettings, VigilConfig

ADAPTERS = ("slack_bolt", "slack_sdk", "httpx", "matplotlib", "starlette", "openai", "bot", "commands")


def test_the_signals_workflow_builds_no_sql_and_imports_no_adapter() -> None:
    modules = imports_of("workflows.signals")
    assert {"workflows.signals.intake", "workflows.signals.service", "workflows.signals.velocity"} <= set(
        modules
    )
    for module, imported in modules.items():
        sql = {name for name in imported if name.startswith("sqlalchemy")}
        # A session is handed through, and a race on client ids is retried; no statement is built.
        assert sql <= {
            "sqlalchemy.orm",
            "sqlalchemy.orm.Session",
            "sqlalchemy.exc",
            "sqlalchemy.exc.IntegrityError",
        }, (
            module,
            sql,
        )
        assert not [a for a in ADAPTERS if reaches(imported, a)], module


def test_signals_and_anomalies_do_not_import_each_other() -> None:
    for module, imported in imports_of("workflows.signals").items():
        assert not reaches(imported, "workflows.anomalies"), module
    for module, imported in imports_of("workflows.anomalies").items():
        assert not reaches(imported, "workflows.signals"), module


def test_the_signals_config_is_named_as_settings_not_as_the_service() -> None:
    assert VigilConfig.model_fields["signals"].annotation is SignalSettings
    assert SignalSettings().anomalies.baseline_weeks == 4

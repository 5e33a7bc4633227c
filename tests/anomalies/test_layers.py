"""Where things live in the anomalies house: the detector is pure, the service asks the store,
and nothing here imports signals (the cycle issue #12 broke), Slack or HTTP."""

from __future__ import annotations

from tests.harness.imports import imports_of, reaches

ADAPTERS = ("slack_bolt", "slack_sdk", "httpx", "matplotlib", "starlette", "openai", "bot", "commands")


def test_the_detector_is_pure_and_the_service_builds_no_sql() -> None:
    modules = imports_of("workflows.anomalies")
    detector = modules["workflows.anomalies.detect"]
    assert not reaches(detector, "sqlalchemy") and not reaches(detector, "store")
    for module, imported in modules.items():
        sql = {name for name in imported if name.startswith("sqlalchemy")}
        assert sql <= {"sqlalchemy.orm", "sqlalchemy.orm.Session"}, (module, sql)
        assert not [a for a in ADAPTERS if reaches(imported, a)], module
        assert not reaches(imported, "workflows.signals"), module

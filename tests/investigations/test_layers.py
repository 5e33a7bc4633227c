"""Where things live in the investigations house: the platform is reached through a port
(bot/gateways/platform.py implements it), queries live in store/, and the workflow never
imports an HTTP client."""

from __future__ import annotations

from tests.harness.imports import imports_of, reaches

ADAPTERS = ("slack_bolt", "slack_sdk", "httpx", "matplotlib", "starlette", "openai", "bot", "commands")


def test_investigations_build_no_sql_and_call_no_http() -> None:
    modules = imports_of("workflows.investigations")
    assert {"workflows.investigations.ports", "workflows.investigations.service"} <= set(modules)
    for module, imported in modules.items():
        sql = {name for name in imported if name.startswith("sqlalchemy")}
        assert sql <= {"sqlalchemy.orm", "sqlalchemy.orm.Session"}, (module, sql)
        assert not [a for a in ADAPTERS if reaches(imported, a)], module

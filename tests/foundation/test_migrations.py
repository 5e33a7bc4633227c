"""Alembic owns the schema: it goes up and down on both databases, matches the models,
and Vigil will not serve on a schema that is behind."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

import store.models  # noqa: F401
from bot.cli import main
from store import migrate
from store.base import Base
from store.db import Database
from store.urls import normalize_url


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_the_migrations_run_up_down_and_up_again(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url)
    assert _tables(fresh_db_url) == set(Base.metadata.tables)
    migrate.downgrade(fresh_db_url, "base")
    assert _tables(fresh_db_url) == set()
    migrate.upgrade(fresh_db_url)
    assert Database(fresh_db_url).schema_status().up_to_date


def test_the_models_match_the_migrations(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url)
    engine = create_engine(normalize_url(fresh_db_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_serve_refuses_an_empty_schema_and_says_how_to_fix_it(fresh_db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("VIGIL_CONFIG", str(Path(__file__).resolve().parents[2] / "vigil.example.yaml"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    result = CliRunner().invoke(main, ["serve", "--port", "3999"])
    assert result.exit_code != 0
    assert "vigil db upgrade" in result.output


def test_vigil_db_upgrade_and_current(fresh_db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", fresh_db_url)
    behind = CliRunner().invoke(main, ["db", "current"])
    assert behind.exit_code == 1 and "vigil db upgrade" in behind.output
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    current = CliRunner().invoke(main, ["db", "current"])
    assert current.exit_code == 0 and migrate.head_revision() in current.output

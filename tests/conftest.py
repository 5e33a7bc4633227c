"""Fixtures for a T&S day: a database (SQLite or PostgreSQL, chosen by VIGIL_TEST_DB), a
fake Slack, a fake enforcement API, and the real Vigil app served over HTTP between them.

VIGIL_TEST_DB=sqlite (default) or postgresql. PostgreSQL runs create their own database
(from VIGIL_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test) and drop it after.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from bot.app import create_bolt_app
from bot.fakes.enforcement import FakeEnforcement
from bot.fakes.slack import FakeSlack
from bot.http import create_http_app
from bot.runtime import build_context
from bot.slack_client import make_client
from store import migrate
from store.base import Base
from store.db import Database
from tests.harness.server import ServerThread
from tests.harness.slack_sender import SlackSender
from tests.harness.vigil import TEST_ENFORCER, Vigil, VigilFactory
from tests.harness.world import BOT_TOKEN, GROUP_ANALYST, MONDAY, SIGNING_SECRET, config_data
from workflows.clock import FixedClock
from workflows.config import Settings, VigilConfig, parse_config
from workflows.enforcement import EnforcerOptions

# --- databases ------------------------------------------------------------------------------
BACKEND = os.environ.get("VIGIL_TEST_DB", "sqlite").lower()
PG_ADMIN_URL = os.environ.get("VIGIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


class PgServer:
    """Creates and drops throwaway databases next to the `test` database."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(migrate.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
        self.admin_url = migrate.normalize_url(admin_url)

    def create(self, prefix: str = "vigil_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if BACKEND != "postgresql":
        pytest.skip("PostgreSQL tests run with VIGIL_TEST_DB=postgresql")
    server = PgServer(PG_ADMIN_URL)
    yield server
    server.admin.dispose()


@pytest.fixture
def fresh_db_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database (no schema) on the backend under test, for migration tests."""
    if BACKEND == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        url = server.create("vigil_mig")
        yield url
        server.drop(url)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture(scope="session")
def migrated_template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    if BACKEND == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        url = server.create()
        migrate.upgrade(url)
        yield url
        server.drop(url)
    else:
        path = tmp_path_factory.mktemp("template") / "vigil.db"
        migrate.upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def db(migrated_template: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database for one test."""
    if BACKEND == "postgresql":
        database = Database(migrated_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        path = tmp_path / "vigil.db"
        shutil.copyfile(migrated_template, path)
        database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


# --- fakes ------------------------------------------------------------------------------------
@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.usergroups["S0TNS0001"] = [GROUP_ANALYST]
    yield fake
    fake.stop()


@pytest.fixture
def fake_enforcement() -> Iterator[FakeEnforcement]:
    fake = FakeEnforcement().start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def lease_clock() -> FixedClock:
    """The wall time leases are written in: separate from the business clock, as in
    production, and moved only by the tests about leases."""
    return FixedClock(MONDAY)


@pytest.fixture
def config() -> VigilConfig:
    return parse_config(config_data())


@pytest.fixture
def settings(fake_slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        slack_files_url=f"{fake_slack.base_url}/",  # the only host the bot token may go to
        vigil_database_url="sqlite:///unused.db",
        vigil_enforcement_url=None,
    )


@pytest.fixture
def make_vigil(
    settings: Settings,
    config: VigilConfig,
    db: Database,
    clock: FixedClock,
    lease_clock: FixedClock,
    fake_slack: FakeSlack,
) -> Iterator[VigilFactory]:
    """Start a Vigil (a fresh runtime on the same database each call, like a restart).

    ``enforcement`` is a FakeEnforcement to connect the API, or None for manual mode.
    """
    started: list[Vigil] = []

    def make(
        enforcement: FakeEnforcement | None = None,
        *,
        config: VigilConfig = config,
        options: EnforcerOptions = TEST_ENFORCER,
        settings_update: dict[str, Any] | None = None,
    ) -> Vigil:
        run_settings = settings.model_copy(update=settings_update) if settings_update else settings
        if enforcement is not None:
            run_settings = run_settings.model_copy(
                update={
                    "vigil_enforcement_url": enforcement.url,
                    "vigil_enforcement_token": SecretStr(enforcement.token),
                }
            )
        client = make_client(BOT_TOKEN, fake_slack.api_url)
        ctx, client = build_context(
            run_settings,
            config,
            db=db,
            clock=clock,
            client=client,
            enforcer_options=options,
            lease_clock=lease_clock,
        )
        bolt = create_bolt_app(ctx, client)
        server = ServerThread(create_http_app(ctx, bolt)).start()
        sender = SlackSender(server.url, SIGNING_SECRET, fake_slack.response_url())
        ctx.jobs.poll_seconds = 0.05  # the worker runs as in production, just polls faster
        ctx.jobs.start()
        app = Vigil(ctx=ctx, slack=fake_slack, send=sender, server=server, lease_clock=lease_clock)
        started.append(app)
        return app

    yield make
    for app in started:
        app.stop()


@pytest.fixture
def vigil(make_vigil: VigilFactory) -> Vigil:
    """Vigil in manual mode (no enforcement API configured)."""
    return make_vigil()


@pytest.fixture
def enforcing(make_vigil: VigilFactory, fake_enforcement: FakeEnforcement) -> Vigil:
    """Vigil connected to the fake enforcement API."""
    return make_vigil(fake_enforcement)

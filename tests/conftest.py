"""Shared fixtures: fresh stores on SQLite and on a throwaway PostgreSQL, seeded and migrated."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.startup import prepare
from tests.postgres import PostgresServer, start_postgres
from tests.slack_helpers import SlackAppHarness, running_app

BACKENDS = ["sqlite", "postgresql"]
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except (FileNotFoundError, KeyError, OSError) as problem:
        if os.environ.get("SKILLGAP_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but could not start: {problem}")
        pytest.skip(f"no PostgreSQL on this machine ({problem}); set up initdb/pg_ctl to run")
    yield server
    server.stop()


async def _create_database(server: PostgresServer, name: str, template: str | None) -> None:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=server.port, user="postgres", database="postgres"
    )
    try:
        clause = f" TEMPLATE {template}" if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()


class StoreTemplates:
    """Migrated (and optionally seeded) stores made once a session and copied per test."""

    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = tmp_root
        self.ready: dict[tuple[str, bool], str] = {}

    async def fresh_url(self, backend: str, seeded: bool, server: PostgresServer | None) -> str:
        key = (backend, seeded)
        number = next(_database_numbers)
        if backend == "sqlite":
            template = self.tmp_root / f"template-{int(seeded)}.db"
            if key not in self.ready:
                engine = create_engine(f"sqlite+aiosqlite:///{template}")
                await prepare(engine, load_bundled=seeded)
                await engine.dispose()
                self.ready[key] = str(template)
            target = self.tmp_root / f"store-{number}.db"
            shutil.copyfile(template, target)
            return f"sqlite+aiosqlite:///{target}"
        assert server is not None
        template_name = f"skillgap_template_{int(seeded)}"
        if key not in self.ready:
            await _create_database(server, template_name, None)
            engine = create_engine(server.url(template_name))
            await prepare(engine, load_bundled=seeded)
            await engine.dispose()
            self.ready[key] = template_name
        name = f"skillgap_test_{number}"
        await _create_database(server, name, template_name)
        return server.url(name)


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> StoreTemplates:
    return StoreTemplates(tmp_path_factory.mktemp("stores"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _server_for(backend: str, request: pytest.FixtureRequest) -> PostgresServer | None:
    if backend != "postgresql":
        return None
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server


@pytest.fixture
async def database_url(
    backend: str, store_templates: StoreTemplates, request: pytest.FixtureRequest
) -> str:
    """A fresh store with the bundled market data loaded, on each backend."""
    return await store_templates.fresh_url(backend, True, _server_for(backend, request))


@pytest.fixture
async def empty_database_url(
    backend: str, store_templates: StoreTemplates, request: pytest.FixtureRequest
) -> str:
    """A fresh, migrated store with no data, on each backend."""
    return await store_templates.fresh_url(backend, False, _server_for(backend, request))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(store_templates: StoreTemplates) -> AsyncIterator[AsyncEngine]:
    """A seeded store on SQLite only, for tests about behaviour above the store."""
    engine = create_engine(await store_templates.fresh_url("sqlite", True, None))
    yield engine
    await engine.dispose()


@pytest.fixture
async def slack_app(sqlite_engine: AsyncEngine) -> AsyncIterator[SlackAppHarness]:
    """The real Slack app with every registered feature, on seeded SQLite, against a Slack stub."""
    async with running_app(sqlite_engine) as harness:
        yield harness

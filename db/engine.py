"""Engines and sessions for the store, and its schema migrations (Alembic)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_SQLITE_PATH = Path("var") / "skillgap.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_url_from_env(environ: dict[str, str] | None = None) -> str:
    """The store's URL: SKILLGAP_DATABASE_URL, then DATABASE_URL, then the embedded SQLite."""
    env = os.environ if environ is None else environ
    url = env.get("SKILLGAP_DATABASE_URL") or env.get("DATABASE_URL")
    return normalize_database_url(url or f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}")


def normalize_database_url(url: str) -> str:
    """Give hosting platforms' URLs (postgres://, postgresql://, sqlite://) their async driver."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(f"not a database URL: {url!r} (expected e.g. postgresql://host/db)")
    drivers = {
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+psycopg2": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
    }
    return f"{drivers.get(scheme, scheme)}://{rest}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _enable_sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    url = normalize_database_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def sqlite_pragmas_for_serving(dbapi_connection: object, _record: object = None) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # A commit appends to the write-ahead log instead of rewriting pages, and with NORMAL it is
    # not fsynced each time (a power cut may lose the last commits, never the file): a small
    # write per request (replay protection) costs ~0.4 ms instead of ~12 ms.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def tune_sqlite_for_serving(engine: AsyncEngine) -> None:
    """Settings for a file-backed SQLite store that answers requests or delivers digests."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    event.listen(engine.sync_engine, "connect", sqlite_pragmas_for_serving)
    await engine.dispose()  # connections opened before this get the settings too


def insert_ignoring_duplicates(table: Any, dialect: str, *keys: str) -> Any:
    """An INSERT that skips rows clashing with stored ones: on the unique columns `keys`, or
    on any unique key when none are named (PostgreSQL and SQLite say it the same way)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys) or None)


# PostgreSQL advisory locks (named by a number) for work that several processes may start at
# once on a shared store: web, worker and clock processes all starting after an upgrade.
STORE_SETUP_LOCK = 0x5E11_6A90


async def one_process_at_a_time(session: AsyncSession, lock: int = STORE_SETUP_LOCK) -> None:
    """On PostgreSQL, wait until no other process's transaction holds `lock`; held until this
    transaction ends, so what it reads next includes what the other one committed. SQLite has
    one writer, and `prepare`'s lock serialises the work within a process."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed together or, on any error, not at all."""
    async with session_factory(engine)() as session, session.begin():
        yield session


def _alembic_config(connection: Connection | None = None) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), "head")  # type: ignore[arg-type]


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)

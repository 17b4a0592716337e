"""Processes starting together on one new PostgreSQL store (a worker and a clock after a
release) each load the bundled data: one stores it, the others find it stored."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func
from sqlmodel import select

from db.engine import create_engine, session_factory
from db.importers.bundled import load_bundled_data
from db.models import MarketSnapshot, Role, Skill
from db.snapshots import StoreOutcome


async def test_processes_starting_together_store_the_bundled_data_once(
    empty_database_url: str,
) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer; prepare's lock serialises a process's own start")
    engines = [create_engine(empty_database_url) for _ in range(3)]  # three processes' pools
    try:
        results = await asyncio.gather(*(load_bundled_data(engine) for engine in engines))
        outcomes = [result.outcome for started in results for result in started]
        assert outcomes.count(StoreOutcome.CREATED) == len(results[0])
        async with session_factory(engines[0])() as session:
            snapshots = (await session.exec(select(func.count()).select_from(MarketSnapshot))).one()
            roles = (await session.exec(select(func.count()).select_from(Role))).one()
            skills = (await session.exec(select(func.count()).select_from(Skill))).one()
        assert snapshots == len(results[0]) and roles > 0 and skills > 300
    finally:
        for engine in engines:
            await engine.dispose()

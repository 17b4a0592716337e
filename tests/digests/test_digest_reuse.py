"""A digest's role part is built once per distinct view of the data while it is unchanged."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import digests.content
from db.importers.store import store_documents
from db.market import MarketReader
from db.models import PayKind
from digests.content import DigestBuilder, RoleDigest
from tests.digests.data import april, may


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


def uk_salary(part: RoleDigest) -> float | None:
    assert part.latest is not None and part.latest.salary is not None
    return part.latest.salary.median


async def test_a_role_part_is_reused_for_a_whole_tick_and_rebuilt_when_data_changes(
    empty_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_documents(empty_engine, [april()])
    clock = FakeClock()
    monkeypatch.setattr(digests.content, "time", clock)
    builder = DigestBuilder(MarketReader(empty_engine, recheck_seconds=0))
    first = await builder.role_digest("T1", "ai-engineer")
    # Rate limits stretch a tick's deliveries over minutes: the part is not built again.
    clock.now += 10 * 60
    assert await builder.role_digest("T1", "ai-engineer") is first
    # New data: built again from it.
    await store_documents(empty_engine, [may()])
    rebuilt = await builder.role_digest("T1", "ai-engineer")
    assert rebuilt is not first
    assert rebuilt.latest is not None and first.latest is not None
    assert rebuilt.latest.snapshot.period_label != first.latest.snapshot.period_label


async def test_workspaces_without_data_of_their_own_share_the_public_part(
    empty_engine: AsyncEngine,
) -> None:
    await store_documents(empty_engine, [april(), may()])
    builder = DigestBuilder(MarketReader(empty_engine, recheck_seconds=0))
    public = await builder.role_digest("T1", "ai-engineer")
    assert await builder.role_digest("T2", "ai-engineer") is public
    # A workspace's own snapshot is seen by that workspace only, in a part of its own.
    own = replace(
        may(),
        team_id="T3",
        source="T3 job ads",
        published_on=may().published_on.replace(day=20),
        pay=tuple(
            replace(figure, median=91000)
            if figure.kind is PayKind.ANNUAL and figure.region == "UK"
            else figure
            for figure in may().pay
        ),
    )
    await store_documents(empty_engine, [own])
    mine = await builder.role_digest("T3", "ai-engineer")
    assert mine is not public
    assert mine.latest is not None and mine.latest.snapshot.team_id == "T3"
    assert uk_salary(mine) == 91000
    shared = await builder.role_digest("T1", "ai-engineer")
    assert shared is await builder.role_digest("T2", "ai-engineer")
    assert shared.latest is not None and shared.latest.snapshot.team_id == ""
    assert uk_salary(shared) == 78000


async def test_deliveries_starting_together_wait_for_one_build(
    empty_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_documents(empty_engine, [april(), may()])
    market = MarketReader(empty_engine, recheck_seconds=0)
    builds: list[str] = []
    role_stats = market.role_stats

    async def counted_role_stats(slug: str, team_id: str, **options: Any) -> Any:
        builds.append(team_id)
        return await role_stats(slug, team_id, **options)

    monkeypatch.setattr(market, "role_stats", counted_role_stats)
    builder = DigestBuilder(market)
    parts = await asyncio.gather(
        *(builder.role_digest(f"T{n % 3}", "ai-engineer") for n in range(9))
    )
    assert all(part is parts[0] for part in parts)
    assert builds == [""]

"""A digest's role part is built once per workspace while the market data is unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import digests.content
from db.importers.store import store_documents
from db.market import MarketReader
from digests.content import DigestBuilder
from tests.digests.data import april, may


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


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
    # Another workspace may have data of its own: its part is its own.
    assert await builder.role_digest("T2", "ai-engineer") is not first
    # New data: built again from it.
    await store_documents(empty_engine, [may()])
    rebuilt = await builder.role_digest("T1", "ai-engineer")
    assert rebuilt is not first
    assert rebuilt.latest is not None and first.latest is not None
    assert rebuilt.latest.snapshot.period_label != first.latest.snapshot.period_label

"""The snapshot writer: one transaction, idempotent by content, aliases attached."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import session_factory
from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.models import MarketSnapshot, PayFigure, PayKind, Skill, SkillAlias, SourceKind
from db.snapshots import StoreOutcome


def sample_document(median: float = 75000) -> SnapshotDocument:
    return SnapshotDocument(
        role=RoleDocument(title="Test Engineer", aliases=("QA Engineer",), progression=("A", "B")),
        published_on=date(2026, 4, 1),
        period_label="April 2026",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30),
        source="UK market report",
        source_kind=SourceKind.CURATED,
        pay=(PayDocument(PayKind.ANNUAL, "UK", median=median, low=50000, high=120000),),
        skills=(
            SkillDocument("Python", aliases=("py",), is_essential=True),
            SkillDocument("Pytest", demand_pct=40, supply_pct=30, is_gap=True, rank=1),
        ),
    )


async def count(engine: AsyncEngine, table: type) -> int:
    async with session_factory(engine)() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_same_facts_twice_store_one_snapshot(empty_engine: AsyncEngine) -> None:
    first = await store_documents(empty_engine, [sample_document()])
    second = await store_documents(empty_engine, [sample_document()])
    assert first[0].outcome is StoreOutcome.CREATED
    assert second[0].outcome is StoreOutcome.UNCHANGED
    assert second[0].snapshot_id == first[0].snapshot_id
    assert await count(empty_engine, MarketSnapshot) == 1


async def test_corrected_figures_replace_the_snapshot(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [sample_document()])
    result = await store_documents(empty_engine, [sample_document(median=80000)])
    assert result[0].outcome is StoreOutcome.REPLACED
    assert await count(empty_engine, MarketSnapshot) == 1


async def test_failure_in_a_batch_stores_nothing(empty_engine: AsyncEngine) -> None:
    twice_the_same_pay = sample_document().pay * 2
    broken = dataclasses.replace(sample_document(), source="other", pay=twice_the_same_pay)
    with pytest.raises(IntegrityError):
        await store_documents(empty_engine, [sample_document(), broken])
    assert await count(empty_engine, MarketSnapshot) == 0
    assert await count(empty_engine, Skill) == 0


async def test_aliases_are_attached_once(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [sample_document()])
    async with session_factory(empty_engine)() as session:
        aliases = (await session.exec(select(SkillAlias.normalized))).all()
    assert sorted(aliases) == ["py", "pytest", "python"]


async def test_bundled_data_never_overwrites_a_corrected_import(empty_engine: AsyncEngine) -> None:
    corrected = await store_documents(empty_engine, [sample_document(median=80000)])
    kept = await store_documents(empty_engine, [sample_document()], replace_existing=False)
    assert kept[0].outcome is StoreOutcome.UNCHANGED
    assert kept[0].snapshot_id == corrected[0].snapshot_id
    async with session_factory(empty_engine)() as session:
        medians = (await session.exec(select(PayFigure.median))).all()
    assert medians == [80000]

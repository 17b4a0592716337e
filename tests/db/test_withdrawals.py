"""Withdrawing a snapshot takes it out of every answer at once; restoring brings it back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import session_factory
from db.importers.store import store_documents
from db.market import MarketReader
from db.models import SnapshotAudit
from db.withdrawals import WithdrawalRefused, restore_snapshot, withdraw_snapshot
from tests.db.test_sources import REPORT, TEAM, ads_window


async def test_a_withdrawn_snapshot_leaves_every_answer_and_returns_on_restore(
    empty_engine: AsyncEngine,
) -> None:
    older = ads_window(ads=400, weeks=4, salary=66_000, salaries=300, end=date(2026, 11, 22))
    newer = ads_window(ads=400, weeks=4, salary=68_000, salaries=312, candidates=50)
    await store_documents(empty_engine, [REPORT, older, newer])
    market = MarketReader(empty_engine, recheck_seconds=0)
    [shown] = [s for s in await market.snapshots("ai-engineer", TEAM) if s.period_end.day == 29]
    before = await market.role_stats("ai-engineer", TEAM)
    assert before is not None and before.snapshot.id == shown.id
    assert await market.compare("ai-engineer", TEAM, newer_id=shown.id) is not None

    await withdraw_snapshot(empty_engine, shown.id, "wrong export")
    after = await market.role_stats("ai-engineer", TEAM)
    # The next best figures at once: the week before's ads, still sound and fresher.
    assert after is not None and after.snapshot.period_end == date(2026, 11, 22)
    assert after.salary is not None and after.salary.median == 66_000
    assert shown.id not in {s.id for s in await market.snapshots("ai-engineer", TEAM)}
    across = await market.skill_across("mlops-for-genai", TEAM)
    assert across is not None and shown.id not in {o.snapshot.id for o in across.observations}
    assert await market.stats_for_snapshot(shown.id, TEAM) is None
    assert await market.compare("ai-engineer", TEAM, newer_id=shown.id) is None

    await restore_snapshot(empty_engine, shown.id)
    restored = await market.role_stats("ai-engineer", TEAM)
    assert restored is not None and restored.snapshot.id == shown.id
    assert restored.salary is not None and restored.salary.median == 68_000
    async with session_factory(empty_engine)() as session:
        audit = (await session.exec(select(SnapshotAudit))).all()
    assert [(a.snapshot_id, a.action, a.reason) for a in audit] == [
        (shown.id, "withdrawn", "wrong export"),
        (shown.id, "restored", ""),
    ]


async def test_withdrawing_the_only_report_leaves_no_figures(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [REPORT])
    market = MarketReader(empty_engine, recheck_seconds=0)
    [report] = await market.snapshots("ai-engineer")
    await withdraw_snapshot(empty_engine, report.id)
    assert await market.role_stats("ai-engineer") is None
    assert await market.list_roles() == []
    with pytest.raises(WithdrawalRefused, match="already withdrawn"):
        await withdraw_snapshot(empty_engine, report.id)
    with pytest.raises(WithdrawalRefused, match="no snapshot 9999"):
        await restore_snapshot(empty_engine, 9999)

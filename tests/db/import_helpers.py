"""Helpers shared by the importer tests: fixture paths and whole-store row counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import session_factory
from db.models import (
    MarketSnapshot,
    PayFigure,
    Role,
    RoleAlias,
    RoleRelation,
    Skill,
    SkillAlias,
    SkillFigure,
)

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"
APRIL_REPORT = REPORTS / "ai-engineer-uk-2026-04.txt"
MAY_REPORT = REPORTS / "ai-engineer-uk-2026-05.txt"
DATA_ENGINEER_REPORT = REPORTS / "data-engineer-uk-2026-04.txt"
BUNDLED_APRIL = (
    Path(__file__).parent.parent.parent
    / "db"
    / "data"
    / "snapshots"
    / "ai-engineer-uk-2026-04.yaml"
)

STORE_TABLES = (
    Role,
    RoleAlias,
    RoleRelation,
    Skill,
    SkillAlias,
    MarketSnapshot,
    PayFigure,
    SkillFigure,
)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every market-store table: equal before and after means nothing was stored."""
    counts = {}
    async with session_factory(engine)() as session:
        for table in STORE_TABLES:
            total = (await session.exec(select(func.count()).select_from(table))).one()
            counts[table.__tablename__] = int(total)
    return counts

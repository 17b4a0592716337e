"""Reading co-occurring skills of a computed snapshot: which skills job ads ask for together."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.ingest_models import SkillCooccurrence
from db.market_figures import CooccurringSkill
from db.models import PUBLIC_TEAM, MarketSnapshot, Skill


async def cooccurring_skills(
    engine: AsyncEngine, snapshot_id: int, team_id: str = PUBLIC_TEAM, skill_slug: str | None = None
) -> list[CooccurringSkill]:
    """Partners of every skill of a snapshot (or of one skill), most frequent first.

    Empty for a snapshot the team may not see, and for snapshots of published reports,
    which say nothing about skills asked for together.
    """
    skills: Table = Skill.__table__  # type: ignore[attr-defined]
    pairs: Table = SkillCooccurrence.__table__  # type: ignore[attr-defined]
    snapshots: Table = MarketSnapshot.__table__  # type: ignore[attr-defined]
    first, second = skills.alias("first_skill"), skills.alias("other_skill")
    query = (
        select(first.c.name, second.c.name, second.c.slug, pairs.c.ads, pairs.c.share_pct)
        .join(first, first.c.id == pairs.c.skill_id)
        .join(second, second.c.id == pairs.c.other_skill_id)
        .join(snapshots, snapshots.c.id == pairs.c.snapshot_id)
        .where(
            pairs.c.snapshot_id == snapshot_id,
            snapshots.c.team_id.in_([PUBLIC_TEAM, team_id]),
        )
        .order_by(first.c.name, pairs.c.ads.desc(), second.c.name)
    )
    if skill_slug is not None:
        query = query.where(first.c.slug == skill_slug)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [CooccurringSkill(*row) for row in rows]

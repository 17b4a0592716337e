"""`ingest reextract`: stored ads read again under the current taxonomy, snapshots recomputed.

Stored ads keep the slugs of the skills found in them, not their text. Reading them again
therefore applies what the skills graph says about those skills: every family above a stored
skill is added ("pytorch" gains "deep-learning" and "machine-learning"), so ads stored before
a family existed count for it like new ones, and week-over-week figures do not jump because
a rule changed. Then every window from the earliest changed ad on is recomputed; a snapshot
whose figures come out the same is left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import transaction
from db.ingest.aggregate import SnapshotRules
from db.ingest.pipeline import Ingestor
from db.ingest.writer import sync_taxonomy
from db.ingest_models import IngestedAd
from db.models import StoreState
from db.snapshots import StoreResult
from db.taxonomy import Taxonomy, load_taxonomy

PAGE = 20_000
TAXONOMY_VERSION = "taxonomy_version"

ReextractProgress = Callable[[int, int], None]  # ads read so far, ads stored


@dataclass
class ReextractSummary:
    ads_read: int = 0
    ads_changed: int = 0
    # Team -> the earliest day of an ad whose skills changed: windows from there are rebuilt.
    changed_from: dict[str, date] = field(default_factory=dict)
    snapshots: list[StoreResult] = field(default_factory=list)


def implied_slugs(taxonomy: Taxonomy) -> dict[str, tuple[str, ...]]:
    """Skill slug -> slugs of every skill a mention of it also counts for."""
    slugs = {skill.name: skill.slug for skill in taxonomy.skills}
    return {
        skill.slug: tuple(slugs[name] for name in skill.implies)
        for skill in taxonomy.skills
        if skill.implies
    }


def reread(stored: str, implied: dict[str, tuple[str, ...]]) -> str:
    """An ad's stored skills with every skill they imply, in the stored form."""
    found = {slug for slug in stored.split("|") if slug}
    for slug in list(found):
        found.update(implied.get(slug, ()))
    return "|".join(sorted(found))


async def reextract_stored_ads(
    engine: AsyncEngine,
    *,
    taxonomy: Taxonomy | None = None,
    rules: SnapshotRules | None = None,
    on_progress: ReextractProgress | None = None,
) -> ReextractSummary:
    """Read every stored ad again and recompute the windows of the ads that changed, in one
    transaction: on any error nothing changes."""
    taxonomy = taxonomy or load_taxonomy()
    implied = implied_slugs(taxonomy)
    summary = ReextractSummary()
    ads = ads_table().c
    async with transaction(engine) as session:
        catalogue = await sync_taxonomy(session, taxonomy)
        total = int((await session.execute(sql_select(func.count(ads.id)))).scalar_one())
        after = 0
        # Page by id rather than holding a cursor open over rows that are being updated.
        while True:
            page = (
                await session.execute(
                    sql_select(ads.id, ads.team_id, ads.posted_on, ads.skills)
                    .where(ads.id > after)
                    .order_by(ads.id)
                    .limit(PAGE)
                )
            ).all()
            if not page:
                break
            after = page[-1].id
            changed = []
            for row in page:
                skills = reread(row.skills, implied)
                if skills != row.skills:
                    changed.append({"row_id": row.id, "new_skills": skills})
                    earliest = summary.changed_from.get(row.team_id)
                    if earliest is None or row.posted_on < earliest:
                        summary.changed_from[row.team_id] = row.posted_on
            if changed:
                await session.execute(
                    update(ads_table())
                    .where(ads.id == bindparam("row_id"))
                    .values(skills=bindparam("new_skills")),
                    changed,
                )
            summary.ads_read += len(page)
            summary.ads_changed += len(changed)
            if on_progress is not None:
                on_progress(summary.ads_read, total)
        for team_id, since in sorted(summary.changed_from.items()):
            ingestor = Ingestor(engine, team_id=team_id, rules=rules, taxonomy=taxonomy)
            summary.snapshots += await ingestor.recompute_in(session, catalogue, since)
        await _set_state(session, TAXONOMY_VERSION, str(taxonomy.version))
    return summary


async def reextract_if_taxonomy_changed(engine: AsyncEngine) -> ReextractSummary | None:
    """On start or upgrade: read the stored ads again when the taxonomy's version is not the
    one they were read with; None when nothing needed doing."""
    taxonomy = load_taxonomy()
    async with transaction(engine) as session:
        stored = await session.get(StoreState, TAXONOMY_VERSION)
        if stored is not None and stored.value == str(taxonomy.version):
            return None
        has_ads = (await session.execute(sql_select(ads_table().c.id).limit(1))).first()
        if has_ads is None:
            # Nothing was read with an older taxonomy: only remember this one.
            await _set_state(session, TAXONOMY_VERSION, str(taxonomy.version))
            return None
    return await reextract_stored_ads(engine, taxonomy=taxonomy)


def ads_table() -> Table:
    table: Table = IngestedAd.__table__  # type: ignore[attr-defined]
    return table


async def _set_state(session: AsyncSession, name: str, value: str) -> None:
    state = await session.get(StoreState, name)
    if state is None:
        session.add(StoreState(name=name, value=value))
    else:
        state.value = value
    await session.flush()

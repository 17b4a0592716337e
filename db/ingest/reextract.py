"""`ingest reextract`: stored ads read again under the current taxonomy, snapshots recomputed.

Each stored ad keeps the text its skills were extracted from (db/ingest/ad_text.py), so the
extractor reads it again, in the ingest's parsing workers for a big store: a changed alias
or rule reaches history ("aws" made a skill of its own gives old ads AWS), and week-over-week
figures do not jump because a rule changed. Ads stored before their text was kept, or whose
text is damaged, keep their stored skills with every family above them added; the summary
says how many. Then every window from the earliest changed ad on is recomputed, in the same
transaction; a snapshot whose figures come out the same is left exactly as it was.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, update
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import one_process_at_a_time, transaction
from db.ingest.aggregate import SnapshotRules
from db.ingest.batches import BatchParser
from db.ingest.parsing import ParsingPool
from db.ingest.pipeline import Ingestor
from db.ingest.postings import AdParser
from db.ingest.roles import RoleMapper
from db.ingest.writer import sync_taxonomy
from db.ingest_models import IngestedAd
from db.models import StoreState
from db.snapshots import StoreResult
from db.taxonomy import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

PAGE = 20_000
TEXTS_PER_REQUEST = 2_500  # texts a parsing worker reads per request
# Stores this big are read by worker processes; smaller ones are not worth starting them.
PARALLEL_FROM_ADS = 50_000
SHOWN_IDS = 10  # ids of damaged texts named in the summary
TAXONOMY_VERSION = "taxonomy_version"

ReextractProgress = Callable[[int, int], None]  # ads read so far, ads stored


@dataclass
class ReextractSummary:
    ads_read: int = 0
    ads_changed: int = 0
    # Team -> the earliest day of an ad whose skills changed: windows from there are rebuilt.
    changed_from: dict[str, date] = field(default_factory=dict)
    snapshots: list[StoreResult] = field(default_factory=list)
    # Ads read from their stored skills rather than their text: stored before the text was
    # kept, or with a text that no longer decompresses (the first few ids named).
    ads_without_text: int = 0
    ads_unreadable: int = 0
    unreadable_ids: list[int] = field(default_factory=list)
    # Nothing done: the ads were read with this taxonomy already (see reextract_stored_ads).
    skipped: bool = False

    def notes(self) -> list[str]:
        """What could not be read from text, and what was done instead, in sentences."""
        notes = []
        if self.ads_without_text:
            notes.append(
                f"{self.ads_without_text} of them were stored before their text was kept: "
                "their stored skills were read again with the families above them, but a "
                "changed alias or rule cannot reach them."
            )
        if self.ads_unreadable:
            ids = ", ".join(map(str, self.unreadable_ids))
            more = ", ..." if self.ads_unreadable > len(self.unreadable_ids) else ""
            notes.append(
                f"{self.ads_unreadable} stored ad text(s) could not be read (damaged in the "
                f"store; ad ids {ids}{more}): those ads kept their stored skills, with the "
                "families above them."
            )
        return notes


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
    workers: int | None = None,
    unless_read_with_this_taxonomy: bool = False,
) -> ReextractSummary:
    """Read every stored ad again and recompute the windows of the ads that changed, in one
    transaction: on any error nothing changes. `workers`: parsing worker processes for the
    extraction (None: as many as the cores, up to two, for a big store).
    `unless_read_with_this_taxonomy`: do nothing (summary.skipped) when the store records that
    its ads were read with this taxonomy's version, as another process may just have done."""
    taxonomy = taxonomy or load_taxonomy()
    implied = implied_slugs(taxonomy)
    summary = ReextractSummary()
    ads = ads_table().c
    async with transaction(engine) as session:
        # Processes starting together after an upgrade: one reads the ads, the rest skip.
        await one_process_at_a_time(session)
        if unless_read_with_this_taxonomy and await _read_with(session, taxonomy):
            summary.skipped = True
            return summary
        catalogue = await sync_taxonomy(session, taxonomy)
        total = int((await session.execute(sql_select(func.count(ads.id)))).scalar_one())
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if total >= PARALLEL_FROM_ADS else 0
        # The ingest's parsing workers, asked for texts' skills rather than an export's ads.
        parser = BatchParser(AdParser(taxonomy, RoleMapper(taxonomy, [])), "", [], {})
        extraction = ParsingPool(parser, (taxonomy, [], "", [], {}), workers)
        # Pages whose texts are being read, with the requests each was sent as: the next page
        # is read and sent while the workers read this one.
        reading: deque[tuple[Sequence[Row[Any]], int]] = deque()
        after = 0
        try:
            await extraction.start()
            while True:
                # Paged by id rather than a cursor held open over rows that are being updated.
                page = (
                    await session.execute(
                        sql_select(
                            ads.id,
                            ads.team_id,
                            ads.posted_on,
                            ads.role_slug,
                            ads.skills,
                            ads.packed_text,
                        )
                        .where(ads.id > after)
                        .order_by(ads.id)
                        .limit(PAGE)
                    )
                ).all()
                if page:
                    after = page[-1].id
                    for start in range(0, len(page), TEXTS_PER_REQUEST):
                        texts = [row.packed_text for row in page[start : start + TEXTS_PER_REQUEST]]
                        await extraction.submit(("texts", texts))
                    reading.append((page, -(-len(page) // TEXTS_PER_REQUEST)))
                if reading and (len(reading) > 1 or not page):
                    done, requests = reading.popleft()
                    found: list[str | None] = []
                    for _ in range(requests):
                        found += cast(list[str | None], await extraction.answer())
                    await _store_changes(session, done, found, implied, summary)
                    if on_progress is not None:
                        on_progress(summary.ads_read, total)
                if not page and not reading:
                    break
        finally:
            await extraction.close()
        for team_id, since in sorted(summary.changed_from.items()):
            ingestor = Ingestor(engine, team_id=team_id, rules=rules, taxonomy=taxonomy)
            summary.snapshots += await ingestor.recompute_in(session, catalogue, since)
        await _set_state(session, TAXONOMY_VERSION, str(taxonomy.version))
    return summary


async def _store_changes(
    session: AsyncSession,
    page: Sequence[Row[Any]],
    found: list[str | None],
    implied: dict[str, tuple[str, ...]],
    summary: ReextractSummary,
) -> None:
    """Store the page's ads whose skills changed; note the earliest day each team changed."""
    changed = []
    for row, skills in zip(page, found, strict=True):
        if skills is None:
            # No text to read, or a damaged one: the stored skills, under the current graph.
            if row.packed_text is None:
                summary.ads_without_text += 1
            else:
                summary.ads_unreadable += 1
                if len(summary.unreadable_ids) < SHOWN_IDS:
                    summary.unreadable_ids.append(row.id)
            skills = reread(row.skills, implied)
        if skills == row.skills:
            continue
        changed.append({"row_id": row.id, "new_skills": skills})
        # An ad that maps to no role counts in no window: nothing to recompute for it.
        if row.role_slug is not None:
            earliest = summary.changed_from.get(row.team_id)
            if earliest is None or row.posted_on < earliest:
                summary.changed_from[row.team_id] = row.posted_on
    if changed:
        ads = ads_table().c
        await session.execute(
            update(ads_table())
            .where(ads.id == bindparam("row_id"))
            .values(skills=bindparam("new_skills")),
            changed,
        )
    summary.ads_read += len(page)
    summary.ads_changed += len(changed)


async def reextract_if_taxonomy_changed(
    engine: AsyncEngine, taxonomy: Taxonomy | None = None
) -> ReextractSummary | None:
    """On start or upgrade: read the stored ads again when the taxonomy's version is not the
    one they were read with; None when nothing needed doing."""
    taxonomy = taxonomy or load_taxonomy()
    async with transaction(engine) as session:
        if await _read_with(session, taxonomy):
            return None
        has_ads = (await session.execute(sql_select(ads_table().c.id).limit(1))).first()
        if has_ads is None:
            # Nothing was read with an older taxonomy: only remember this one.
            await _set_state(session, TAXONOMY_VERSION, str(taxonomy.version))
            return None
    summary = await reextract_stored_ads(
        engine, taxonomy=taxonomy, unless_read_with_this_taxonomy=True
    )
    if summary.skipped:
        return None  # another process starting at the same time read them first
    logger.info(
        "taxonomy version %s: read %d stored ads again, %d changed, %d snapshots recomputed",
        taxonomy.version,
        summary.ads_read,
        summary.ads_changed,
        len(summary.snapshots),
    )
    for note in summary.notes():
        logger.warning("ingest reextract: %s", note)
    return summary


async def _read_with(session: AsyncSession, taxonomy: Taxonomy) -> bool:
    """Whether the store records its ads as read with this taxonomy's version."""
    stored = await session.get(StoreState, TAXONOMY_VERSION)
    return stored is not None and stored.value == str(taxonomy.version)


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

"""The market data shipped with SkillGap (db/data/snapshots), loaded into a store on first use."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.constants import DATA_DIR
from db.engine import one_process_at_a_time, transaction
from db.importers.store import store_snapshot
from db.importers.structured import parse_structured_file
from db.ingest.writer import sync_taxonomy
from db.snapshots import StoreResult
from db.taxonomy import load_taxonomy

SNAPSHOTS_DIR = DATA_DIR / "snapshots"


def bundled_snapshot_files() -> list[Path]:
    return sorted(SNAPSHOTS_DIR.glob("*.yaml"))


async def load_bundled_data(engine: AsyncEngine) -> list[StoreResult]:
    """Store bundled snapshots the store lacks (a stored one, maybe corrected, is kept as is),
    and the skills taxonomy, so people's skill lists resolve against several hundred skills."""
    documents = [parse_structured_file(path) for path in bundled_snapshot_files()]
    async with transaction(engine) as session:
        # Worker and clock processes starting together on a new PostgreSQL store would both
        # insert the same roles and skills; the second waits, then finds them stored.
        await one_process_at_a_time(session)
        results = [
            await store_snapshot(session, document, replace_existing=False)
            for document in documents
        ]
        # After the snapshots, so their skill names win any clash over an alias.
        await sync_taxonomy(session, load_taxonomy())
    return results

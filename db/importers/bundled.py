"""The market data shipped with SkillGap (db/data/snapshots), loaded into a store on first use."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import DATA_DIR
from db.importers.store import StoreResult, store_documents
from db.importers.structured import parse_structured_file

SNAPSHOTS_DIR = DATA_DIR / "snapshots"


def bundled_snapshot_files() -> list[Path]:
    return sorted(SNAPSHOTS_DIR.glob("*.yaml"))


async def load_bundled_data(engine: AsyncEngine) -> list[StoreResult]:
    """Store bundled snapshots the store lacks; a stored one (maybe corrected) is kept as is."""
    documents = [parse_structured_file(path) for path in bundled_snapshot_files()]
    return await store_documents(engine, documents, replace_existing=False)

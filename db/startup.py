"""First use of a store: migrate it to the newest schema and load the bundled data it lacks."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import upgrade
from db.importers.bundled import load_bundled_data
from db.ingest.reextract import reextract_if_taxonomy_changed

_prepare_lock = asyncio.Lock()


async def prepare(engine: AsyncEngine, *, load_bundled: bool = True) -> None:
    """Migrate, and on an empty store load the bundled market data: first use needs no command.
    When the taxonomy changed since the stored ads were read, they are read again."""
    async with _prepare_lock:
        await upgrade(engine)
        if load_bundled:
            await load_bundled_data(engine)
            # Ads stored under an older taxonomy are read again under this one (once).
            await reextract_if_taxonomy_changed(engine)

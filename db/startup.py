"""First use of a store: migrate it to the newest schema and load the bundled data it lacks."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import upgrade
from db.importers.bundled import load_bundled_data

_prepare_lock = asyncio.Lock()


async def prepare(engine: AsyncEngine, *, load_bundled: bool = True) -> None:
    """Migrate, and on an empty store load the bundled market data: first use needs no command."""
    async with _prepare_lock:
        await upgrade(engine)
        if load_bundled:
            await load_bundled_data(engine)

"""Reads and writes per-workspace settings (the default role), with a short in-process cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory, transaction
from db.workspace_models import WorkspaceSettings

# Web processes scale out, so a change made through one is seen by the others within this.
CACHE_SECONDS = 5.0

# Per engine (a store), per workspace: when it was read and what it said.
_cache: WeakKeyDictionary[AsyncEngine, dict[str, tuple[float, str | None]]] = WeakKeyDictionary()


async def default_role_slug(engine: AsyncEngine, team_id: str) -> str | None:
    """The workspace's chosen default role, or None when it chose none."""
    cached = _cache.get(engine, {}).get(team_id)
    now = time.monotonic()
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    async with session_factory(engine)() as session:
        row = await session.get(WorkspaceSettings, team_id)
    slug = row.default_role_slug if row is not None else None
    _cache.setdefault(engine, {})[team_id] = (now, slug)
    return slug


async def set_default_role(engine: AsyncEngine, team_id: str, slug: str, user_id: str) -> None:
    """Make `slug` the workspace's default role (insert or update)."""
    async with transaction(engine) as session:
        row = await session.get(WorkspaceSettings, team_id)
        if row is None:
            row = WorkspaceSettings(team_id=team_id, updated_at=datetime.now(UTC))
        row.default_role_slug = slug
        row.updated_by = user_id
        row.updated_at = datetime.now(UTC)
        session.add(row)
    _cache.setdefault(engine, {})[team_id] = (time.monotonic(), slug)

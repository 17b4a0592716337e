"""Rows worked through under leases (digest deliveries, feed runs): a claim makes the chosen
rows one worker's for a while, counts the attempt, and hands them back as they now are."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col

from db.engine import transaction

Leased = TypeVar("Leased", bound=SQLModel)


async def take_leases(
    engine: AsyncEngine,
    model: type[Leased],
    chosen: Select[Any],
    still_claimable: Any,
    *,
    worker: str,
    expires_at: datetime,
    **values: Any,
) -> list[Leased]:
    """Lease the rows whose ids `chosen` selects to `worker` until `expires_at`, if they are
    still claimable when the UPDATE runs (another worker may have been quicker), setting
    `values` too; the rows as the UPDATE left them (no second query), by id."""
    statement = (
        update(model)
        .where(col(model.id).in_(chosen.scalar_subquery()), still_claimable)  # type: ignore[attr-defined]
        .values(
            lease_owner=worker,
            lease_expires_at=expires_at,
            attempts=col(model.attempts) + 1,  # type: ignore[attr-defined]
            **values,
        )
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    async with transaction(engine) as session:
        rows: list[Leased] = list((await session.execute(statement)).scalars().all())
    return sorted(rows, key=lambda row: row.id or 0)  # type: ignore[attr-defined]

"""Signatures of accepted Slack requests, kept for as long as they are valid, so that a request
replayed within its five minutes (to any web process sharing the store) runs nothing."""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import insert_ignoring_duplicates
from db.slack_models import AcceptedRequest

# Slack's signatures are accepted up to five minutes either side of the clock; a row outlives
# that (plus a minute's slack) only until the next clean-up.
SIGNATURE_LIFETIME_SECONDS = 5 * 60 + 60

_TABLE = AcceptedRequest.__table__  # type: ignore[attr-defined]


async def accept_once(engine: AsyncEngine, signature: str, signed_at: int) -> bool:
    """Note a request's signature as accepted; False when it already was (a replay).

    One INSERT that skips a clashing row: no read first, one round trip.
    """
    statement = insert_ignoring_duplicates(_TABLE, engine.dialect.name, "signature").values(
        signature=signature, signed_at=signed_at
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return bool(result.rowcount)


async def forget_expired(engine: AsyncEngine, now: float | None = None) -> None:
    """Delete signatures too old to pass the signature check again (by the indexed timestamp)."""
    cutoff = int(time.time() if now is None else now) - SIGNATURE_LIFETIME_SECONDS
    async with engine.begin() as connection:
        await connection.execute(delete(_TABLE).where(_TABLE.c.signed_at < cutoff))

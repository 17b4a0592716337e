"""Accepted request signatures: one insert tells a replay apart; expired ones are cleaned up."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.replays import SIGNATURE_LIFETIME_SECONDS, accept_once, forget_expired
from db.slack_models import AcceptedRequest

SIGNATURE = "v0=" + "ab" * 32


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        table = AcceptedRequest.__table__  # type: ignore[attr-defined]
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_signature_is_accepted_once(empty_engine: AsyncEngine) -> None:
    now = int(time.time())
    assert await accept_once(empty_engine, SIGNATURE, now) is True
    assert await accept_once(empty_engine, SIGNATURE, now) is False
    assert await accept_once(empty_engine, "v0=" + "cd" * 32, now) is True


async def test_only_signatures_too_old_to_verify_are_forgotten(empty_engine: AsyncEngine) -> None:
    now = int(time.time())
    expired = now - SIGNATURE_LIFETIME_SECONDS - 1
    await accept_once(empty_engine, SIGNATURE, expired)
    await accept_once(empty_engine, "v0=" + "cd" * 32, now - 5 * 60)  # still verifiable
    await forget_expired(empty_engine, now=now)
    assert await count(empty_engine) == 1
    assert await accept_once(empty_engine, SIGNATURE, expired) is True

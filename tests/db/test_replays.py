"""Accepted request signatures: one insert tells a replay apart; expired ones are cleaned up."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, tune_sqlite_for_serving
from db.replays import (
    SIGNATURE_LIFETIME_SECONDS,
    AcceptedSignatures,
    accept_once,
    forget_expired,
)
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


async def test_a_web_process_sees_signatures_another_accepted(empty_engine: AsyncEngine) -> None:
    now = int(time.time())
    first, second = (AcceptedSignatures(empty_engine, direct=True) for _ in range(2))
    try:
        assert await first.accept_once(SIGNATURE, now) is True
        assert await second.accept_once(SIGNATURE, now) is False
        assert await first.accept_once(SIGNATURE, now) is False
    finally:
        first.close()
        second.close()
    assert await count(empty_engine) == 1


@dataclass
class DirectPath:
    """A web process's replay check on the embedded SQLite file, and the file's path."""

    engine: AsyncEngine
    signatures: AcceptedSignatures
    path: str


@pytest.fixture
async def direct(empty_database_url: str) -> AsyncIterator[DirectPath]:
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    signatures = AcceptedSignatures(engine, direct=True)
    try:
        yield DirectPath(engine, signatures, make_url(empty_database_url).database or "")
    finally:
        signatures.close()
        await engine.dispose()


async def test_a_busy_sqlite_file_still_refuses_replays_without_blocking_the_loop(
    direct: DirectPath,
) -> None:
    writer = sqlite3.connect(direct.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process (an ingest, say) is writing
        now = int(time.time())
        accepting = asyncio.create_task(direct.signatures.accept_once(SIGNATURE, now))
        await asyncio.sleep(0.2)
        assert not accepting.done()  # waiting for the writer, off the event loop
        writer.execute("COMMIT")
        assert await asyncio.wait_for(accepting, timeout=10) is True
        assert await direct.signatures.accept_once(SIGNATURE, now) is False
    finally:
        writer.close()


async def test_the_clean_up_writes_beside_the_inserts_not_on_the_async_path(
    direct: DirectPath, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served, a write of this process's own on the async path holds SQLite's one write lock
    while the next requests try the direct path: they fall back too, and keep falling back."""
    now = int(time.time())
    await direct.signatures.accept_once(SIGNATURE, now - SIGNATURE_LIFETIME_SECONDS - 1)
    await direct.signatures.accept_once("v0=" + "cd" * 32, now)

    async def async_path(*_: object) -> None:
        raise AssertionError("the clean-up took the async path while the file was free")

    monkeypatch.setattr("db.replays.forget_expired", async_path)
    await direct.signatures.forget_expired(now)
    assert await count(direct.engine) == 1


def file_size(path: str) -> int:
    return os.path.getsize(path)


async def test_the_log_of_direct_inserts_is_checkpointed_by_the_clean_up(
    empty_database_url: str,
) -> None:
    """The direct connection never checkpoints (a disk sync on the event loop); the clean-up
    copies the write-ahead log into the file off the loop, so it does not grow for ever."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    await tune_sqlite_for_serving(engine)
    signatures = AcceptedSignatures(engine, direct=True)
    path = make_url(empty_database_url).database or ""
    now = int(time.time())
    try:
        for number in range(3000):
            await signatures.accept_once(f"v0={number:064x}", now)
        before = file_size(path)
        await signatures.forget_expired(now)
        assert file_size(path) > before + 100_000
    finally:
        signatures.close()
        await engine.dispose()


async def test_requests_arriving_together_are_written_in_one_transaction(
    direct: DirectPath,
) -> None:
    """A commit is most of an insert's cost: the requests of one turn of the event loop share
    one, and a signature twice among them is still a replay the second time."""
    statements: list[str] = []
    assert direct.signatures._direct is not None
    direct.signatures._direct.set_trace_callback(statements.append)
    now = int(time.time())
    others = [f"v0={number:064x}" for number in range(5)]
    results = await asyncio.gather(
        *(direct.signatures.accept_once(signature, now) for signature in [*others, others[2]])
    )
    assert results == [True] * 5 + [False]
    assert statements.count("COMMIT") == 1
    assert await count(direct.engine) == 5
    # A replay of any of them later, alone, is refused too.
    assert await direct.signatures.accept_once(others[4], now) is False


async def test_a_group_that_finds_the_file_busy_takes_the_async_path_whole(
    direct: DirectPath,
) -> None:
    writer = sqlite3.connect(direct.path, isolation_level=None)
    now = int(time.time())
    try:
        writer.execute("BEGIN IMMEDIATE")
        group = asyncio.gather(
            *(direct.signatures.accept_once(signature, now) for signature in (SIGNATURE,) * 2)
        )
        await asyncio.sleep(0.2)
        assert not group.done()  # waiting for the writer, off the event loop
        writer.execute("COMMIT")
        assert sorted(await asyncio.wait_for(group, timeout=10)) == [False, True]
        assert await count(direct.engine) == 1
    finally:
        writer.close()

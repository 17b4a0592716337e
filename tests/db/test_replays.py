"""Accepted request signatures: one insert tells a replay apart; expired ones are cleaned up."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time

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


async def test_a_busy_sqlite_file_still_refuses_replays_without_blocking_the_loop(
    empty_database_url: str,
) -> None:
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    signatures = AcceptedSignatures(engine, direct=True)
    writer = sqlite3.connect(make_url(empty_database_url).database or "", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process (an ingest, say) is writing
        now = int(time.time())
        accepting = asyncio.create_task(signatures.accept_once(SIGNATURE, now))
        await asyncio.sleep(0.2)
        assert not accepting.done()  # waiting for the writer, off the event loop
        writer.execute("COMMIT")
        assert await asyncio.wait_for(accepting, timeout=10) is True
        assert await signatures.accept_once(SIGNATURE, now) is False
    finally:
        writer.close()
        signatures.close()
        await engine.dispose()


async def test_the_clean_up_writes_beside_the_inserts_not_on_the_async_path(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served, a write of this process's own on the async path holds SQLite's one write lock
    while the next requests try the direct path: they fall back too, and keep falling back."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    signatures = AcceptedSignatures(engine, direct=True)
    now = int(time.time())
    try:
        await signatures.accept_once(SIGNATURE, now - SIGNATURE_LIFETIME_SECONDS - 1)
        await signatures.accept_once("v0=" + "cd" * 32, now)

        async def async_path(*_: object) -> None:
            raise AssertionError("the clean-up took the async path while the file was free")

        monkeypatch.setattr("db.replays.forget_expired", async_path)
        await signatures.forget_expired(now)
        assert await count(engine) == 1
    finally:
        signatures.close()
        await engine.dispose()


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
    empty_database_url: str,
) -> None:
    """A commit is most of an insert's cost: the requests of one turn of the event loop share
    one, and a signature twice among them is still a replay the second time."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    signatures = AcceptedSignatures(engine, direct=True)
    statements: list[str] = []
    assert signatures._direct is not None
    signatures._direct.set_trace_callback(statements.append)
    now = int(time.time())
    others = [f"v0={number:064x}" for number in range(5)]
    try:
        results = await asyncio.gather(
            *(signatures.accept_once(signature, now) for signature in [*others, others[2]])
        )
        assert results == [True] * 5 + [False]
        assert statements.count("COMMIT") == 1
        assert await count(engine) == 5
        # A replay of any of them later, alone, is refused too.
        assert await signatures.accept_once(others[4], now) is False
    finally:
        signatures.close()
        await engine.dispose()


async def test_a_group_that_finds_the_file_busy_takes_the_async_path_whole(
    empty_database_url: str,
) -> None:
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("the direct path is the embedded SQLite store's")
    engine = create_engine(empty_database_url)
    signatures = AcceptedSignatures(engine, direct=True)
    writer = sqlite3.connect(make_url(empty_database_url).database or "", isolation_level=None)
    now = int(time.time())
    try:
        writer.execute("BEGIN IMMEDIATE")
        group = asyncio.gather(
            *(signatures.accept_once(signature, now) for signature in (SIGNATURE, SIGNATURE))
        )
        await asyncio.sleep(0.2)
        assert not group.done()  # waiting for the writer, off the event loop
        writer.execute("COMMIT")
        assert sorted(await asyncio.wait_for(group, timeout=10)) == [False, True]
        assert await count(engine) == 1
    finally:
        writer.close()
        signatures.close()
        await engine.dispose()

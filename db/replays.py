"""Signatures of accepted Slack requests, kept for as long as they are valid, so that a request
replayed within its five minutes (to any web process sharing the store) runs nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import insert_ignoring_duplicates, sqlite_pragmas_for_serving
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


def expiry_cutoff(now: float | None = None) -> int:
    """Signatures accepted before this are too old to pass the signature check again."""
    return int(time.time() if now is None else now) - SIGNATURE_LIFETIME_SECONDS


async def forget_expired(engine: AsyncEngine, now: float | None = None) -> None:
    """Delete signatures too old to pass the signature check again (by the indexed timestamp)."""
    async with engine.begin() as connection:
        await connection.execute(delete(_TABLE).where(_TABLE.c.signed_at < expiry_cutoff(now)))


class AcceptedSignatures:
    """`accept_once` for a web process, cheap enough for every request.

    Through SQLAlchemy and aiosqlite one insert costs ~0.5 ms of CPU, several times the rest of
    a slash command's work. On an embedded SQLite file the same statement runs on a plain
    connection of this process instead (~20 µs), one transaction for the requests that arrive
    together: it never waits for a lock, so it cannot stall the event loop, and when another
    process is writing (an ingest, a worker) the requests take the async path, which waits off
    the loop. The rows still go to the shared file, so every web process on it sees them.

    The clean-up writes through the same connection: a write of this process's own on the
    async path would hold the file's one write lock while the next requests try theirs, send
    them down the async path too, and keep them there while requests overlap.
    """

    def __init__(self, engine: AsyncEngine, *, direct: bool) -> None:
        self.engine = engine
        self._direct = _direct_sqlite_connection(engine) if direct else None
        # Requests waiting for the next group write: (signature, signed_at, first time?).
        self._waiting: list[tuple[str, int, asyncio.Future[bool | None]]] = []

    async def accept_once(self, signature: str, signed_at: int) -> bool:
        if self._direct is not None:
            first_time: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
            self._waiting.append((signature, signed_at, first_time))
            if len(self._waiting) == 1:
                # Requests that arrived together reach here in the same turn of the event loop:
                # one transaction writes them all, once they have (a commit per request is
                # most of what an insert costs).
                asyncio.get_running_loop().call_soon(self._write_waiting)
            written = await first_time
            if written is not None:
                return written
        return await accept_once(self.engine, signature, signed_at)

    def _write_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            written: list[bool | None] = list(self._insert([(s, at) for s, at, _ in waiting]))
        except sqlite3.Error:
            # Busy (another process is writing) or broken: the async path waits, or raises
            # SQLAlchemy's error for the request to handle.
            written = [None] * len(waiting)
        for (_, _, first_time), result in zip(waiting, written, strict=True):
            if not first_time.done():  # the request may have been cancelled meanwhile
                first_time.set_result(result)

    def _insert(self, rows: list[tuple[str, int]]) -> list[bool]:
        connection = self._direct
        if connection is None:  # closed while requests waited
            raise sqlite3.ProgrammingError("closed")
        if len(rows) == 1:
            return [connection.execute(_SQLITE_INSERT, rows[0]).rowcount == 1]
        connection.execute("BEGIN IMMEDIATE")
        try:
            # A signature twice in one group: the second finds the first's row, as it should.
            written = [connection.execute(_SQLITE_INSERT, row).rowcount == 1 for row in rows]
            connection.execute("COMMIT")
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return written

    async def forget_expired(self, now: float | None = None) -> None:
        if self._direct is None:
            await forget_expired(self.engine, now)
            return
        try:
            self._direct.execute(_SQLITE_FORGET, (expiry_cutoff(now),))
        except sqlite3.Error:  # busy: as for accept_once
            await forget_expired(self.engine, now)
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file, on the engine's thread: the direct connection
        does not, because a checkpoint syncs the disk and would hold the loop for milliseconds.
        PASSIVE never waits for readers or writers."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None


_SQLITE_INSERT = str(
    insert_ignoring_duplicates(_TABLE, "sqlite", "signature")
    .values(signature=bindparam("signature"), signed_at=bindparam("signed_at"))
    .compile(dialect=sqlite.dialect())
)

_SQLITE_FORGET = str(
    delete(_TABLE).where(_TABLE.c.signed_at < bindparam("cutoff")).compile(dialect=sqlite.dialect())
)


def _direct_sqlite_connection(engine: AsyncEngine) -> sqlite3.Connection | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    # Autocommit: each insert is its own transaction. No busy wait: see AcceptedSignatures.
    connection = sqlite3.connect(database, isolation_level=None, timeout=0, check_same_thread=False)
    try:
        sqlite_pragmas_for_serving(connection)
        connection.execute("PRAGMA wal_autocheckpoint=0")  # see AcceptedSignatures._checkpoint
    except sqlite3.Error:
        connection.close()  # the file is busy or unusable: every request takes the async path
        return None
    return connection

"""Parsed ads stored in bulk, each ad once (by source id or by its words): which were new."""

from __future__ import annotations

import sqlite3
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import insert_ignoring_duplicates
from db.ingest.batches import AD_COLUMNS
from db.ingest_models import IngestedAd

INGEST_CACHE_KIB = 64 * 1024
DEFAULT_CACHE_KIB = 2000  # SQLite's own default


class AdStore:
    """Stores parsed ads in bulk, skipping those already stored (either key), and tells
    which of a batch it kept. SQLite gets multi-row inserts on the driver directly; other
    databases a Core executemany."""

    def __init__(self, connection: Any, dialect: str, raw: Any | None, newest_id: int) -> None:
        self.connection = connection
        self.dialect = dialect
        self.raw = raw
        # Rows stored from now on get ids above this one (see _insert_sqlite).
        self.newest_id = newest_id
        columns = ", ".join(AD_COLUMNS)
        self._one_row = "(" + ", ".join("?" * len(AD_COLUMNS)) + ")"
        self._sql_head = f"INSERT INTO ingested_ads ({columns}) VALUES "
        self._sql_tail = " ON CONFLICT DO NOTHING"
        variables = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
        self._rows_per_statement = min(2048, variables // len(AD_COLUMNS))
        self._statements: dict[int, str] = {}

    @classmethod
    async def open(cls, session: AsyncSession, newest_id: int) -> AdStore:
        """The store for a run; `newest_id` is the largest ingested_ads id when it starts."""
        connection = await session.connection()
        dialect = connection.dialect.name
        raw: Any = None
        if dialect == "sqlite":
            raw = (await connection.get_raw_connection()).driver_connection
            # A bigger page cache for the bulk load: each ad lands at a random place of the
            # content-key index, which soon outgrows the default 2 MB.
            await raw.execute(f"PRAGMA cache_size=-{INGEST_CACHE_KIB}")
        return cls(connection, dialect, raw, newest_id)

    async def close(self) -> None:
        if self.raw is not None:
            await self.raw.execute(f"PRAGMA cache_size=-{DEFAULT_CACHE_KIB}")

    async def insert(self, ads: list[tuple[Any, ...]]) -> np.ndarray:
        """Store the ads; True for each one stored now (not known before, not repeated)."""
        if self.raw is not None:
            return await self._insert_sqlite(ads)
        return _kept(ads, await self._insert_core(ads))

    async def _insert_sqlite(self, ads: list[tuple[Any, ...]]) -> np.ndarray:
        kept = np.ones(len(ads), dtype=bool)
        start = 0
        while start < len(ads):
            # Statements of a few fixed sizes (the largest, then powers of two): the driver
            # keeps every distinct statement prepared, and a new size for every batch would
            # fill its cache with big ones.
            remaining = len(ads) - start
            size = self._rows_per_statement
            if remaining < size:
                size = 1 << (remaining.bit_length() - 1)
            part = ads[start : start + size]
            sql = self._statements.get(size)
            if sql is None:
                sql = self._sql_head + ", ".join([self._one_row] * size) + self._sql_tail
                self._statements[size] = sql
            assert self.raw is not None
            cursor = await self.raw.execute(sql, list(chain.from_iterable(part)))
            stored_now, last_id = cursor.rowcount, cursor.lastrowid
            await cursor.close()
            if stored_now < size:
                # Some were known already. The rows just stored are the ones with ids above
                # the newest before: the run's transaction is the only writer, and SQLite
                # numbers a new row one past the largest id. (Cheaper than RETURNING.)
                cursor = await self.raw.execute(
                    "SELECT id, ad_key, content_key FROM ingested_ads WHERE id > ?",
                    (self.newest_id,),
                )
                rows = await cursor.fetchall()
                await cursor.close()
                if rows:
                    self.newest_id = max(row[0] for row in rows)
                kept[start : start + size] = _kept(part, {(row[1], row[2]) for row in rows})
            elif stored_now:
                self.newest_id = last_id  # the id of the statement's last row
            start += size
        return kept

    async def _insert_core(self, ads: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
        """The keys of the ads stored now, as the insert returns them."""
        table = IngestedAd.__table__  # type: ignore[attr-defined]
        statement = insert_ignoring_duplicates(table, self.dialect).returning(
            table.c.ad_key, table.c.content_key
        )
        rows = []
        for ad in ads:
            row = dict(zip(AD_COLUMNS, ad, strict=True))
            row["posted_on"] = date.fromisoformat(row["posted_on"])
            rows.append(row)
        result = await self.connection.execute(statement, rows)
        return {(ad_key, content_key) for ad_key, content_key in result}


def _kept(ads: list[tuple[Any, ...]], stored: set[tuple[str, str]]) -> np.ndarray:
    """True for each ad whose keys were stored now; an ad repeated in `ads` only once."""
    kept = np.zeros(len(ads), dtype=bool)
    for position, ad in enumerate(ads):
        keys = (ad[1], ad[2])
        if keys in stored:
            stored.discard(keys)  # the same ad twice in one batch is stored once
            kept[position] = True
    return kept

"""`ingest postings|candidates`: files -> kept rows -> recomputed snapshots, in one transaction.

Every file is checked before anything is written; rows are inserted in large batches with
"on conflict do nothing" so the same ad (by source id, or by its words when reposted) counts
once however often it is ingested; then every window the new rows touch is recomputed from
the stored rows, so several files, in any order, give the same figures as one.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sqlite3
import sys
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, true
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import transaction
from db.importers.document import InvalidImport, Problem
from db.importers.store import StoreOutcome, StoreResult
from db.ingest.aggregate import Aggregator, SnapshotRules
from db.ingest.batches import AD_COLUMNS, BatchParser, ParsedBatch
from db.ingest.counting import columns_of, week_start
from db.ingest.parse_worker import _HEADER
from db.ingest.postings import AdParser, BadRow, role_slug
from db.ingest.readers import (
    FileRefused,
    NoBlockBoundary,
    ReadStats,
    Resume,
    block_start,
    detect_format,
    read_blocks,
    read_rows,
)
from db.ingest.roles import KnownRole, RoleMapper
from db.ingest.taxonomy import Taxonomy, load_taxonomy
from db.ingest.writer import SkillCatalogue, sync_taxonomy, write_snapshots
from db.ingest_models import IngestedAd, IngestedCandidate
from db.models import Role, RoleAlias

BATCH_SIZE = 5_000
SNAPSHOTS_PER_WRITE = 50
INGEST_CACHE_KIB = 64 * 1024
DEFAULT_CACHE_KIB = 2000  # SQLite's own default
# Inputs this big are parsed in worker processes; smaller ones are not worth the start-up.
PARALLEL_FROM_BYTES = 20_000_000
MAX_PROBLEMS_KEPT = 200

ProgressHook = Callable[[Path, int, int], None]  # file, bytes read, file size


@dataclass
class IngestSummary:
    kind: str  # "postings" or "candidates"
    files: list[str] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    stored: int = 0  # new rows kept
    duplicates: int = 0  # seen before (same id, or the same ad reposted)
    unmapped_titles: Counter[str] = field(default_factory=Counter)
    unknown_skills: Counter[str] = field(default_factory=Counter)
    pay_kinds: Counter[str] = field(default_factory=Counter)
    predicted_salaries: int = 0
    outliers_dropped: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    snapshots: list[StoreResult] = field(default_factory=list)
    # Peak memory of each parsing worker process (MB), when workers were used.
    worker_peaks_mb: list[float] = field(default_factory=list)

    def note_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)

    def sort_problems(self) -> None:
        """File by file, line by line (reading and parsing report them at different times)."""
        order = {name: index for index, name in enumerate(self.files)}
        self.problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line or 0))

    def snapshot_counts(self) -> Counter[StoreOutcome]:
        return Counter(result.outcome for result in self.snapshots)


def check_files(paths: Iterable[Path]) -> None:
    """Refuse the whole run, before anything is written, when a file is not an export."""
    problems = []
    for path in paths:
        try:
            detect_format(path)
        except FileRefused as refused:
            problems.append(refused.problem)
    if problems:
        raise InvalidImport(problems)


async def known_roles(session: AsyncSession) -> list[KnownRole]:
    roles = (await session.exec(select(Role))).all()
    aliases = (await session.exec(select(RoleAlias))).all()
    names: dict[int, list[str]] = {}
    for alias in aliases:
        names.setdefault(alias.role_id, []).append(alias.alias)
    return [KnownRole(r.title, (r.title, *names.get(r.id or 0, []))) for r in roles]


def _insert_ignoring_duplicates(session: AsyncSession, model: Any) -> Any:
    """A bulk insert that skips rows whose key is already stored (either unique key)."""
    table = model.__table__  # Core, not ORM: one executemany per batch
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


async def _max_id(session: AsyncSession, table: Any) -> int:
    """The newest row id: rows stored later in this transaction have bigger ids."""
    return int((await session.exec(select(func.coalesce(func.max(table.id), 0)))).one())


async def _count(session: AsyncSession, table: Any, team_id: str) -> int:
    result = await session.exec(
        select(func.count()).select_from(table).where(table.team_id == team_id)
    )
    return int(result.one())


def _rows_with_progress(
    path: Path,
    summary: IngestSummary,
    stats: ReadStats,
    required: tuple[str, ...],
    on_progress: ProgressHook | None,
    resume: Resume | None = None,
) -> Iterator[Any]:
    size = path.stat().st_size
    hook = None if on_progress is None else (lambda done: on_progress(path, done, size))
    return read_rows(
        path,
        required=required,
        on_problem=summary.note_problem,
        stats=stats,
        on_progress=hook,
        resume=resume,
    )


# Blocks of about this size go to the parsers: a few thousand ads each.
BLOCK_BYTES = 1 << 20
_WORKER_MODULE = "db.ingest.parse_worker"
_ANSWER_BUFFER = 64 << 20
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


def _file_size(path: Path) -> int:
    return path.stat().st_size


class ParsingPool:
    """Parses blocks in order: in worker processes for big inputs (the work is CPU-bound),
    else in this process. Requests go to the workers in turn, so answers come back in the
    order they were asked for."""

    def __init__(self, parser: BatchParser, setup: tuple[Any, ...], workers: int) -> None:
        self.parser = parser
        self.setup = setup
        self.workers = workers
        self._processes: list[asyncio.subprocess.Process] = []
        self._pending: deque[asyncio.subprocess.Process | ParsedBatch] = deque()
        self._turn = 0
        self.worker_peaks_mb: list[float] = []

    @property
    def capacity(self) -> int:
        """Requests worth keeping in flight: enough to keep every worker busy."""
        return 2 * self.workers if self.workers else 1

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        if not self.workers:
            return
        environment = dict(os.environ)
        # The worker imports this project however the ingest was started.
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PROJECT_ROOT, environment.get("PYTHONPATH")) if p
        )
        for _ in range(self.workers):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                _WORKER_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=environment,
                # Answers are read as they come, whole: a worker blocked on a full pipe
                # while this process waits to send it more would never finish.
                limit=_ANSWER_BUFFER,
            )
            self._processes.append(process)
            await self._send(process, self.setup)

    async def _send(self, process: asyncio.subprocess.Process, message: object) -> None:
        assert process.stdin is not None
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.write(_HEADER.pack(len(payload)) + payload)
        await process.stdin.drain()

    async def _receive(self, process: asyncio.subprocess.Process) -> Any:
        assert process.stdout is not None
        try:
            (size,) = _HEADER.unpack(await process.stdout.readexactly(_HEADER.size))
            return pickle.loads(await process.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            raise RuntimeError("a parsing worker stopped unexpectedly") from None

    async def submit(self, request: tuple[Any, ...]) -> None:
        if not self._processes:
            self._pending.append(self._parse_here(request))
            return
        process = self._processes[self._turn]
        self._turn = (self._turn + 1) % len(self._processes)
        await self._send(process, request)
        self._pending.append(process)

    def _parse_here(self, request: tuple[Any, ...]) -> ParsedBatch:
        if request[0] == "block":
            _, data, file_format, columns, at_file_start = request
            return self.parser.parse_block(data, file_format, columns, at_file_start)
        return self.parser.parse_rows(request[1])

    async def result(self) -> ParsedBatch:
        """The answer to the oldest request still in flight."""
        waiting = self._pending.popleft()
        if isinstance(waiting, ParsedBatch):
            return waiting
        answer = await self._receive(waiting)
        if isinstance(answer, tuple) and answer[0] == "error":
            raise RuntimeError(f"parsing failed in a worker process:\n{answer[1]}")
        assert isinstance(answer, ParsedBatch)
        return answer

    async def close(self) -> None:
        processes, self._processes = self._processes, []
        for process in processes:
            try:
                while self._pending and self._pending[0] is process:
                    self._pending.popleft()
                    await self._receive(process)
                await self._send(process, ("stop",))
                answer = await self._receive(process)
                if isinstance(answer, tuple) and answer[0] == "stopped":
                    self.worker_peaks_mb.append(float(answer[1]))
            except (RuntimeError, ConnectionError, BrokenPipeError):
                pass
            finally:
                if process.stdin is not None:
                    process.stdin.close()
                if process.returncode is None:
                    try:
                        await asyncio.wait_for(process.wait(), timeout=10)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
        self._pending.clear()


class _AdStore:
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
    async def open(cls, session: AsyncSession, newest_id: int) -> _AdStore:
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
        if self.dialect == "postgresql":
            statement: Any = postgresql.insert(table).on_conflict_do_nothing()
        else:
            statement = sqlite.insert(table).on_conflict_do_nothing()
        statement = statement.returning(table.c.ad_key, table.c.content_key)
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


async def parsed_batches(
    path: Path,
    parsing: ParsingPool,
    summary: IngestSummary,
    *,
    block_bytes: int = BLOCK_BYTES,
    on_progress: ProgressHook | None = None,
) -> AsyncIterator[tuple[ParsedBatch, int]]:
    """A file's batches in order, with the number of lines before each (block) batch.

    Blocks are read while earlier ones are parsed. If a block did not end at a row
    boundary, or none can be found, the rest of the file is read row by row.
    """
    try:
        file_format = detect_format(path)
        start = block_start(path, file_format, ("title",))
    except FileRefused as refused:
        raise InvalidImport([refused.problem]) from None
    size = _file_size(path)
    resume = start
    if start is not None:
        blocks = read_blocks(path, file_format, start.offset, block_bytes)
        in_flight: deque[tuple[int, int]] = deque()  # offset and size of each block
        line_base = start.line
        more = True
        resume = None
        while True:
            while more and parsing.in_flight < parsing.capacity:
                try:
                    offset, data = next(blocks)
                except StopIteration:
                    more = False
                    break
                except NoBlockBoundary as stuck:
                    more = False
                    resume = Resume(stuck.offset, -1, start.columns)
                    break
                await parsing.submit(("block", data, file_format, start.columns, offset == 0))
                in_flight.append((offset, len(data)))
            if not in_flight:
                break
            batch = await parsing.result()
            offset, length = in_flight.popleft()
            if not batch.clean:
                # Its rows are not trusted: drop it and what follows, read on by rows.
                while in_flight:
                    in_flight.popleft()
                    await parsing.result()
                resume = Resume(offset, line_base, start.columns)
                break
            yield batch, line_base
            line_base += batch.lines
            if on_progress is not None:
                on_progress(path, offset + length, size)
        if resume is not None and resume.line < 0:
            resume = Resume(resume.offset, line_base, resume.columns)
        if resume is None:
            if on_progress is not None:
                on_progress(path, size, size)
            return
    async for batch in _parsed_by_rows(path, parsing, summary, resume, on_progress):
        yield batch, 0


async def _parsed_by_rows(
    path: Path,
    parsing: ParsingPool,
    summary: IngestSummary,
    resume: Resume | None,
    on_progress: ProgressHook | None,
) -> AsyncIterator[ParsedBatch]:
    """The row-by-row reader's rows, parsed in chunks (lines as in the file)."""
    stats = ReadStats()
    rows = _rows_with_progress(path, summary, stats, ("title",), on_progress, resume)
    chunk: list[tuple[int, dict[str, object]]] = []
    try:
        for row in rows:
            chunk.append((row.line, row.fields))
            if len(chunk) >= BATCH_SIZE:
                await parsing.submit(("rows", chunk))
                chunk = []
                if parsing.in_flight >= parsing.capacity:
                    yield await parsing.result()
        if chunk:
            await parsing.submit(("rows", chunk))
        while parsing.in_flight:
            yield await parsing.result()
    except FileRefused as refused:
        raise InvalidImport([refused.problem]) from None
    summary.rows += stats.rows
    summary.bad_rows += stats.bad_rows


class Ingestor:
    """One ingest run against one store and team."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        team_id: str = "",
        rules: SnapshotRules | None = None,
        taxonomy: Taxonomy | None = None,
        on_progress: ProgressHook | None = None,
        today: date | None = None,
        workers: int | None = None,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.engine = engine
        self.team_id = team_id
        self.rules = rules or SnapshotRules()
        self.taxonomy = taxonomy or load_taxonomy()
        self.on_progress = on_progress
        self.today = today or datetime.now(UTC).date()
        # None: worker processes only when the input is big enough to repay starting them.
        self.workers = workers
        self.block_bytes = block_bytes

    def _workers_for(self, paths: list[Path]) -> int:
        if self.workers is not None:
            return self.workers
        size = sum(path.stat().st_size for path in paths)
        return min(2, os.cpu_count() or 1) if size >= PARALLEL_FROM_BYTES else 0

    async def ingest_postings(self, paths: list[Path]) -> IngestSummary:
        check_files(paths)
        summary = IngestSummary("postings", [str(p) for p in paths])
        async with transaction(self.engine) as session:
            catalogue, parser = await self._prepare(session)
            newest_old_row = await _max_id(session, IngestedAd)
            before = await _count(session, IngestedAd, self.team_id)
            store = await _AdStore.open(session, newest_old_row)
            # Rows new in this run are counted as they are stored; older rows are read back.
            fresh = Aggregator(self.rules, list(catalogue.names))
            roles = await known_roles(session)
            batch_parser = BatchParser(
                parser, self.team_id, fresh.skill_slugs, dict(catalogue.merged)
            )
            setup = (
                self.taxonomy,
                roles,
                self.team_id,
                fresh.skill_slugs,
                dict(catalogue.merged),
            )
            parsing = ParsingPool(batch_parser, setup, self._workers_for(paths))
            earliest = 0
            try:
                await parsing.start()
                for path in paths:
                    batches = parsed_batches(
                        path,
                        parsing,
                        summary,
                        block_bytes=self.block_bytes,
                        on_progress=self.on_progress,
                    )
                    async for batch, line_base in batches:
                        self._note_batch(summary, path, batch, line_base)
                        if not batch.ads:
                            continue
                        kept = await store.insert(batch.ads)
                        columns = columns_of(batch)
                        counted = kept & (columns.roles >= 0)
                        if counted.any():
                            fresh.add_columns(columns.only(counted))
                        if batch.earliest and (not earliest or batch.earliest < earliest):
                            earliest = batch.earliest
            finally:
                await parsing.close()
                await store.close()
                summary.worker_peaks_mb = parsing.worker_peaks_mb
            summary.sort_problems()
            summary.stored = await _count(session, IngestedAd, self.team_id) - before
            summary.duplicates = summary.rows - summary.bad_rows - summary.stored
            if earliest:
                summary.snapshots = await self._recompute(
                    session,
                    catalogue,
                    date.fromordinal(earliest),
                    fresh,
                    old_ads_up_to=newest_old_row if before else 0,
                )
        return summary

    @staticmethod
    def _note_batch(summary: IngestSummary, path: Path, batch: ParsedBatch, line_base: int) -> None:
        summary.rows += batch.rows
        summary.bad_rows += batch.bad_rows
        for line, message in batch.problems:
            summary.note_problem(Problem(str(path), line_base + line, message))
        summary.unmapped_titles.update(batch.unmapped_titles)
        for note, count in batch.salary_notes.items():
            if note == "predicted":
                summary.predicted_salaries += count
            elif note == "outlier":
                summary.outliers_dropped += count
            else:
                summary.pay_kinds[note] += count

    async def ingest_candidates(self, paths: list[Path]) -> IngestSummary:
        check_files(paths)
        summary = IngestSummary("candidates", [str(p) for p in paths])
        async with transaction(self.engine) as session:
            catalogue, parser = await self._prepare(session)
            connection = await session.connection()
            before = await _count(session, IngestedCandidate, self.team_id)
            insert = _insert_ignoring_duplicates(session, IngestedCandidate)
            earliest: date | None = None
            batch: list[dict[str, object]] = []
            for path in paths:
                stats = ReadStats()
                try:
                    for row in _rows_with_progress(
                        path, summary, stats, ("skills",), self.on_progress
                    ):
                        try:
                            candidate = parser.parse_candidate(row.fields, self.today)
                        except BadRow as problem:
                            stats.bad_rows += 1
                            summary.note_problem(
                                Problem(str(path), row.line, f"{problem}; skipped")
                            )
                            continue
                        summary.unknown_skills.update(candidate.unknown_skills)
                        batch.append(
                            {
                                "team_id": self.team_id,
                                "candidate_key": candidate.candidate_key,
                                "seen_on": candidate.seen_on,
                                "role_slug": role_slug(candidate.role),
                                "is_london": candidate.is_london,
                                "skills": "|".join(candidate.skills),
                            }
                        )
                        if earliest is None or candidate.seen_on < earliest:
                            earliest = candidate.seen_on
                        if len(batch) >= BATCH_SIZE:
                            await connection.execute(insert, batch)
                            batch = []
                except FileRefused as refused:
                    raise InvalidImport([refused.problem]) from None
                summary.rows += stats.rows
                summary.bad_rows += stats.bad_rows
            if batch:
                await connection.execute(insert, batch)
            summary.stored = await _count(session, IngestedCandidate, self.team_id) - before
            summary.duplicates = summary.rows - summary.bad_rows - summary.stored
            if earliest is not None:
                summary.snapshots = await self._recompute(
                    session, catalogue, earliest, Aggregator(self.rules, list(catalogue.names))
                )
        return summary

    async def recompute(self, since: date | None = None) -> list[StoreResult]:
        """Recompute every window from the stored rows (all of them when `since` is None)."""
        async with transaction(self.engine) as session:
            catalogue, _ = await self._prepare(session)
            return await self._recompute(
                session,
                catalogue,
                since or date(1970, 1, 1),
                Aggregator(self.rules, list(catalogue.names)),
            )

    async def _prepare(self, session: AsyncSession) -> tuple[SkillCatalogue, AdParser]:
        catalogue = await sync_taxonomy(session, self.taxonomy)
        roles = RoleMapper(self.taxonomy, await known_roles(session))
        return catalogue, AdParser(self.taxonomy, roles)

    async def _recompute(
        self,
        session: AsyncSession,
        catalogue: SkillCatalogue,
        since: date,
        aggregator: Aggregator,
        *,
        old_ads_up_to: int | None = None,
    ) -> list[StoreResult]:
        """Rebuild every window from `since` on. The aggregator may hold this run's new ads
        already; then only ads stored before the run (id <= old_ads_up_to) are read back."""
        rules = self.rules
        # Windows ending from `since`'s week on; their previous windows and look-back weeks
        # reach further back, so read that far.
        reach = rules.rolling_weeks - 1 + max(rules.new_lookback_weeks, rules.rolling_weeks)
        read_from = week_start(since) - timedelta(weeks=reach)
        first_day = (
            await session.exec(
                select(func.min(IngestedAd.posted_on)).where(IngestedAd.team_id == self.team_id)
            )
        ).one()
        if first_day is None:
            return []
        merged = catalogue.merged
        if old_ads_up_to != 0:  # 0: the team had no ads before this run, none to read back
            await self._read_back_ads(session, aggregator, read_from, old_ads_up_to, merged)
        await self._read_back_candidates(session, aggregator, read_from, merged)
        role_titles, role_aliases = await self._role_titles(session)
        computed = aggregator.iter_snapshots(
            team_id=self.team_id,
            role_titles=role_titles,
            skill_names=catalogue.names,
            since=since,
            first_day=first_day,
        )
        # Written a few dozen at a time: every window's figures at once would be a lot of
        # objects for a big store.
        results: list[StoreResult] = []
        role_ids: dict[str, int] = {}
        while chunk := list(islice(computed, SNAPSHOTS_PER_WRITE)):
            results += await write_snapshots(
                session, chunk, catalogue.ids, role_aliases, role_ids=role_ids
            )
        return results

    async def _read_back_ads(
        self,
        session: AsyncSession,
        aggregator: Aggregator,
        read_from: date,
        old_ads_up_to: int | None,
        merged: dict[str, str],
    ) -> None:
        ad_table = IngestedAd.__table__.c  # type: ignore[attr-defined]
        ads = await session.stream(
            sql_select(
                ad_table.posted_on,
                ad_table.role_slug,
                ad_table.is_london,
                ad_table.pay_kind,
                ad_table.pay_value,
                ad_table.skills,
            )
            .where(
                ad_table.team_id == self.team_id,
                ad_table.posted_on >= read_from,
                ad_table.role_slug.is_not(None),
                true() if old_ads_up_to is None else ad_table.id <= old_ads_up_to,
            )
            .execution_options(yield_per=20_000)
        )
        async for partition in ads.partitions(20_000):
            aggregator.add_stored_ads(partition, merged)

    async def _read_back_candidates(
        self,
        session: AsyncSession,
        aggregator: Aggregator,
        read_from: date,
        merged: dict[str, str],
    ) -> None:
        candidate_table = IngestedCandidate.__table__.c  # type: ignore[attr-defined]
        candidates = await session.stream(
            sql_select(
                candidate_table.seen_on,
                candidate_table.role_slug,
                candidate_table.is_london,
                candidate_table.skills,
            )
            .where(
                candidate_table.team_id == self.team_id,
                candidate_table.seen_on >= read_from,
            )
            .execution_options(yield_per=20_000)
        )
        async for profiles in candidates.partitions(20_000):
            for seen_on, owner, in_london, listed in profiles:
                held = tuple(listed.split("|")) if listed else ()
                if merged and held:
                    held = tuple(sorted({merged.get(s, s) for s in held}))
                aggregator.add_candidate(seen_on, owner, bool(in_london), held)

    async def _role_titles(
        self, session: AsyncSession
    ) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
        """Role slug -> title (the store's spelling first), and the taxonomy's aliases."""
        titles = {role_slug(rule.title) or "": rule.title for rule in self.taxonomy.roles}
        for role in (await session.exec(select(Role))).all():
            titles[role.slug] = role.title
        aliases = {rule.title: rule.aliases for rule in self.taxonomy.roles}
        return titles, aliases


def explain_postings(
    paths: list[Path],
    parser: AdParser,
    on_problem: Callable[[Problem], None],
) -> Iterator[dict[str, object]]:
    """One audit record per ad: what SkillGap reads in it, before any statistics."""
    check_files(paths)
    names = {skill.slug: skill.name for skill in parser.taxonomy.skills}
    for path in paths:
        stats = ReadStats()
        try:
            for row in read_rows(path, required=("title",), on_problem=on_problem, stats=stats):
                try:
                    ad = parser.parse_ad(row.fields)
                except BadRow as problem:
                    on_problem(Problem(str(path), row.line, f"{problem}; skipped"))
                    continue
                salary = ad.salary
                yield {
                    "id": ad.source_id or ad.ad_key,
                    "role": ad.role,
                    "skills": sorted(names[slug] for slug in ad.skills),
                    "salary": {
                        "kind": None if salary is None else salary.kind.value,
                        "low": None if salary is None else salary.low,
                        "high": None if salary is None else salary.high,
                    },
                }
        except FileRefused as refused:
            raise InvalidImport([refused.problem]) from None

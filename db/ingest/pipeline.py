"""`ingest postings|candidates`: files -> kept rows -> recomputed snapshots, in one transaction.

Every file is checked before anything is written; rows are inserted in large batches with
"on conflict do nothing" so the same ad (by source id, or by its words when reposted) counts
once however often it is ingested; then every window the new rows touch is recomputed from
the stored rows, so several files, in any order, give the same figures as one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, true
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import transaction
from db.importers.document import InvalidImport, Problem
from db.importers.store import StoreOutcome, StoreResult
from db.ingest.aggregate import Aggregator, SnapshotRules, week_start
from db.ingest.postings import AdParser, BadRow, role_slug
from db.ingest.readers import FileRefused, ReadStats, Row, detect_format, read_rows
from db.ingest.roles import KnownRole, RoleMapper
from db.ingest.taxonomy import Taxonomy, load_taxonomy
from db.ingest.writer import SkillCatalogue, sync_taxonomy, write_snapshots
from db.ingest_models import IngestedAd, IngestedCandidate
from db.models import PayKind, Role, RoleAlias

BATCH_SIZE = 5_000
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
) -> Iterator[Any]:
    size = path.stat().st_size
    hook = None if on_progress is None else (lambda done: on_progress(path, done, size))
    return read_rows(
        path, required=required, on_problem=summary.note_problem, stats=stats, on_progress=hook
    )


# Outcome of parsing one ad: (line, problem or None, row to insert or None, role title,
# title, salary note). Plain tuples: they cross process boundaries in bulk.
AdOutcome = tuple[int, str | None, dict[str, Any] | None, str | None, str, str | None]

_worker_parser: AdParser | None = None
_worker_team = ""


def _ad_outcome(parser: AdParser, team_id: str, line: int, fields: dict[str, object]) -> AdOutcome:
    try:
        ad = parser.parse_ad(fields)
    except BadRow as problem:
        return (line, str(problem), None, None, "", None)
    pay = ad.pay_for_stats
    salary_note: str | None
    if ad.salary_predicted:
        salary_note = "predicted"
    elif ad.salary is not None and pay is None:
        salary_note = "outlier"
    else:
        salary_note = None if pay is None else pay.kind.value
    row = {
        "team_id": team_id,
        "ad_key": ad.ad_key,
        "content_key": ad.content_key,
        "posted_on": ad.posted_on,
        "title": ad.title,
        "role_slug": role_slug(ad.role),
        "is_london": ad.is_london,
        "pay_kind": None if pay is None else pay.kind.value,
        "pay_value": None if pay is None else pay.value,
        "skills": "|".join(ad.skills),
    }
    return (line, None, row, ad.role, ad.title, salary_note)


def _start_worker(taxonomy: Taxonomy, roles: list[KnownRole], team_id: str) -> None:
    global _worker_parser, _worker_team
    _worker_parser = AdParser(taxonomy, RoleMapper(taxonomy, roles))
    _worker_team = team_id


def _parse_in_worker(rows: list[tuple[int, dict[str, object]]]) -> list[AdOutcome]:
    assert _worker_parser is not None
    return [_ad_outcome(_worker_parser, _worker_team, line, fields) for line, fields in rows]


class _AdParsing:
    """Parses ads in chunks, in worker processes for big inputs (the work is CPU-bound)."""

    def __init__(
        self, parser: AdParser, roles: list[KnownRole], team_id: str, workers: int
    ) -> None:
        self.parser = parser
        self.team_id = team_id
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        if workers > 0:
            # Spawned, not forked: the event loop and the database driver own threads.
            self.pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(parser.taxonomy, roles, team_id),
            )

    async def outcomes(self, chunks: Iterator[list[Row]]) -> AsyncIterator[list[AdOutcome]]:
        if self.pool is None:
            for chunk in chunks:
                yield [
                    _ad_outcome(self.parser, self.team_id, row.line, row.fields) for row in chunk
                ]
            return
        loop = asyncio.get_running_loop()
        pending: deque[asyncio.Future[list[AdOutcome]]] = deque()
        for chunk in chunks:
            work = [(row.line, row.fields) for row in chunk]
            pending.append(loop.run_in_executor(self.pool, _parse_in_worker, work))
            # A few chunks in flight keep the workers busy; more would only use memory.
            if len(pending) >= 2 * self.workers:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    ) -> None:
        self.engine = engine
        self.team_id = team_id
        self.rules = rules or SnapshotRules()
        self.taxonomy = taxonomy or load_taxonomy()
        self.on_progress = on_progress
        self.today = today or datetime.now(UTC).date()
        # None: worker processes only when the input is big enough to repay starting them.
        self.workers = workers

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
            connection = await session.connection()
            table = IngestedAd.__table__  # type: ignore[attr-defined]
            newest_old_row = await _max_id(session, IngestedAd)
            before = await _count(session, IngestedAd, self.team_id)
            insert = _insert_ignoring_duplicates(session, IngestedAd).returning(table.c.ad_key)
            # Rows new in this run are counted as they are stored; older rows are read back.
            fresh = Aggregator(self.rules, list(catalogue.names))
            earliest: date | None = None
            parsing = _AdParsing(
                parser, await known_roles(session), self.team_id, self._workers_for(paths)
            )
            try:
                for path in paths:
                    stats = ReadStats()
                    rows = _rows_with_progress(path, summary, stats, ("title",), self.on_progress)
                    try:
                        async for outcomes in parsing.outcomes(_chunks(rows, BATCH_SIZE)):
                            batch = []
                            for line, problem, row, role, title, salary_note in outcomes:
                                if row is None:
                                    stats.bad_rows += 1
                                    summary.note_problem(
                                        Problem(str(path), line, f"{problem}; skipped")
                                    )
                                    continue
                                self._note(summary, role, title, salary_note)
                                batch.append(row)
                                if earliest is None or row["posted_on"] < earliest:
                                    earliest = row["posted_on"]
                            if batch:
                                stored = await connection.execute(insert, batch)
                                self._count_fresh(fresh, batch, {k for (k,) in stored}, catalogue)
                    except FileRefused as refused:
                        raise InvalidImport([refused.problem]) from None
                    summary.rows += stats.rows
                    summary.bad_rows += stats.bad_rows
            finally:
                parsing.close()
            summary.sort_problems()
            summary.stored = await _count(session, IngestedAd, self.team_id) - before
            summary.duplicates = summary.rows - summary.bad_rows - summary.stored
            if earliest is not None:
                summary.snapshots = await self._recompute(
                    session, catalogue, earliest, fresh, old_ads_up_to=newest_old_row
                )
        return summary

    @staticmethod
    def _note(
        summary: IngestSummary, role: str | None, title: str, salary_note: str | None
    ) -> None:
        if role is None:
            summary.unmapped_titles[title] += 1
        if salary_note == "predicted":
            summary.predicted_salaries += 1
        elif salary_note == "outlier":
            summary.outliers_dropped += 1
        elif salary_note is not None:
            summary.pay_kinds[salary_note] += 1

    @staticmethod
    def _count_fresh(
        aggregator: Aggregator,
        batch: list[dict[str, Any]],
        stored_keys: set[str],
        catalogue: SkillCatalogue,
    ) -> None:
        """Count the rows the insert kept (not the duplicates it skipped) into the figures."""
        pay_kinds = {kind.value: kind for kind in PayKind}
        merged = catalogue.merged
        for row in batch:
            key = row["ad_key"]
            if key not in stored_keys:
                continue
            stored_keys.discard(key)  # the same id twice in one batch is stored once
            if row["role_slug"] is None:
                continue
            skills = tuple(row["skills"].split("|")) if row["skills"] else ()
            if merged and skills:
                skills = tuple(sorted({merged.get(s, s) for s in skills}))
            kind = pay_kinds.get(row["pay_kind"]) if row["pay_kind"] else None
            aggregator.add_ad(
                row["posted_on"], row["role_slug"], row["is_london"], kind, row["pay_value"], skills
            )

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
        pay_kinds = {kind.value: kind for kind in PayKind}
        add_ad = aggregator.add_ad
        async for partition in ads.partitions(20_000):
            for posted_on, slug, is_london, pay_kind, pay_value, skills in partition:
                found = tuple(skills.split("|")) if skills else ()
                if merged and found:
                    found = tuple(sorted({merged.get(s, s) for s in found}))
                kind = pay_kinds.get(pay_kind) if pay_kind else None
                add_ad(posted_on, slug, bool(is_london), kind, pay_value, found)
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
        role_titles, role_aliases = await self._role_titles(session)
        computed = aggregator.snapshots(
            team_id=self.team_id,
            role_titles=role_titles,
            skill_names=catalogue.names,
            since=since,
            first_day=first_day,
        )
        return await write_snapshots(session, computed, catalogue.ids, role_aliases)

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

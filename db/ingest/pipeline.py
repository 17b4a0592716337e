"""`ingest postings|candidates`: files -> kept rows -> recomputed snapshots, in one transaction.

Every file is checked before anything is written; rows are inserted in large batches with
"on conflict do nothing" so the same ad (by source id, or by its words when reposted) counts
once however often it is ingested; then every window the new rows touch is recomputed from
the stored rows, so several files, in any order, give the same figures as one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import func, true
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import insert_ignoring_duplicates, transaction
from db.importers.document import InvalidImport, Problem
from db.ingest.ad_store import AdStore
from db.ingest.aggregate import Aggregator, SnapshotRules
from db.ingest.batches import BatchParser, ParsedBatch
from db.ingest.counting import columns_of, week_start
from db.ingest.parsing import (
    BATCH_SIZE,
    BLOCK_BYTES,
    ParsingPool,
    check_files,
    parsed_batches,
    rows_with_progress,
)
from db.ingest.postings import AdParser, BadRow, role_slug
from db.ingest.readers import (
    FileRefused,
    ReadStats,
    read_rows,
)
from db.ingest.roles import KnownRole, RoleMapper
from db.ingest.store_errors import IngestPosition, database_errors_explained
from db.ingest.summary import IngestSummary, ProgressHook
from db.ingest.writer import SkillCatalogue, sync_taxonomy
from db.ingest_models import IngestedAd, IngestedCandidate
from db.models import Role, RoleAlias
from db.snapshots import StoreResult, write_snapshots
from db.taxonomy import Taxonomy, load_taxonomy

SNAPSHOTS_PER_WRITE = 50
# Inputs this big are parsed in worker processes; smaller ones are not worth the start-up.
PARALLEL_FROM_BYTES = 20_000_000


async def known_roles(session: AsyncSession) -> list[KnownRole]:
    roles = (await session.exec(select(Role))).all()
    aliases = (await session.exec(select(RoleAlias))).all()
    names: dict[int, list[str]] = {}
    for alias in aliases:
        names.setdefault(alias.role_id, []).append(alias.alias)
    return [KnownRole(r.title, (r.title, *names.get(r.id or 0, []))) for r in roles]


async def _max_id(session: AsyncSession, table: Any) -> int:
    """The newest row id: rows stored later in this transaction have bigger ids."""
    return int((await session.exec(select(func.coalesce(func.max(table.id), 0)))).one())


async def _count(session: AsyncSession, table: Any, team_id: str) -> int:
    result = await session.exec(
        select(func.count()).select_from(table).where(table.team_id == team_id)
    )
    return int(result.one())


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

    async def ingest_postings(self, paths: list[Path], *, recompute: bool = True) -> IngestSummary:
        """Store the files' ads; `recompute=False` leaves the snapshots to a later `recompute`
        (a feed stores page by page and recomputes once at the end of its run).

        A database error ends the run as IngestFailed, saying where it was; nothing is stored.
        """
        position = IngestPosition()
        async with database_errors_explained(position):
            return await self._ingest_postings(paths, position, recompute=recompute)

    async def _ingest_postings(
        self, paths: list[Path], position: IngestPosition, *, recompute: bool
    ) -> IngestSummary:
        check_files(paths)
        summary = IngestSummary("postings", [str(p) for p in paths])
        async with transaction(self.engine) as session:
            catalogue, parser = await self._prepare(session)
            newest_old_row = await _max_id(session, IngestedAd)
            before = await _count(session, IngestedAd, self.team_id)
            store = await AdStore.open(session, newest_old_row)
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
                        position.storing("ads", path, batch.first_line, batch.last_line)
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
            position.moving_on("recomputing the snapshots")
            summary.sort_problems()
            summary.stored = await _count(session, IngestedAd, self.team_id) - before
            summary.duplicates = summary.rows - summary.bad_rows - summary.stored
            if earliest and recompute:
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
        """Store the files' candidates; a database error ends the run as IngestFailed."""
        position = IngestPosition()
        async with database_errors_explained(position):
            return await self._ingest_candidates(paths, position)

    async def _ingest_candidates(
        self, paths: list[Path], position: IngestPosition
    ) -> IngestSummary:
        check_files(paths)
        summary = IngestSummary("candidates", [str(p) for p in paths])
        async with transaction(self.engine) as session:
            catalogue, parser = await self._prepare(session)
            connection = await session.connection()
            before = await _count(session, IngestedCandidate, self.team_id)
            insert = insert_ignoring_duplicates(
                IngestedCandidate.__table__,  # type: ignore[attr-defined]
                connection.dialect.name,
            )
            earliest: date | None = None
            batch: list[dict[str, object]] = []
            first_line = last_line = 0  # of the rows in `batch`
            for path in paths:
                stats = ReadStats()
                try:
                    for row in rows_with_progress(
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
                        first_line, last_line = first_line or row.line, row.line
                        if len(batch) >= BATCH_SIZE:
                            position.storing("candidates", path, first_line, last_line)
                            await connection.execute(insert, batch)
                            batch, first_line = [], 0
                    if batch:  # a batch never spans two files, so an error names one
                        position.storing("candidates", path, first_line, last_line)
                        await connection.execute(insert, batch)
                        batch, first_line = [], 0
                except FileRefused as refused:
                    raise InvalidImport([refused.problem]) from None
                summary.rows += stats.rows
                summary.bad_rows += stats.bad_rows
            position.moving_on("recomputing the snapshots")
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

    async def recompute_in(
        self, session: AsyncSession, catalogue: SkillCatalogue, since: date
    ) -> list[StoreResult]:
        """Recompute every window from `since` on, in the caller's transaction (ads read
        again by `ingest reextract` and their snapshots change together)."""
        return await self._recompute(
            session, catalogue, since, Aggregator(self.rules, list(catalogue.names))
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
                named = parser.named_skills(row.fields)
                yield {
                    "id": ad.source_id or ad.ad_key,
                    "role": ad.role,
                    # What the ad names, then the families those imply that it does not name:
                    # the ad counts once for each of both.
                    "skills": sorted(names[slug] for slug in ad.skills if slug in named),
                    "families": sorted(names[slug] for slug in ad.skills if slug not in named),
                    "salary": {
                        "kind": None if salary is None else salary.kind.value,
                        "low": None if salary is None else salary.low,
                        "high": None if salary is None else salary.high,
                    },
                }
        except FileRefused as refused:
            raise InvalidImport([refused.problem]) from None

"""One run of one feed: fetch batches, store them through the ingest pipeline, recompute once.

Each batch is stored and the feed's checkpoint saved before the next is fetched, so a run
killed half way resumes where it stopped; the pipeline's keys mean an ad fetched twice is
stored once. The snapshots the run touched are recomputed at its end (or, after a crash,
at the end of the run that resumes it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import session_factory
from db.feed_models import Feed, FeedKind, FeedStatus
from db.feeds import adzuna, reed, store
from db.feeds.adzuna import AdzunaSource
from db.feeds.fetching import (
    ADZUNA_LIMITS,
    NO_LIMITS,
    REED_LIMITS,
    Batch,
    Budget,
    FeedError,
    FeedSource,
    KeyRefused,
    Now,
    PoliteClient,
    Sleep,
    account_of,
    real_sleep,
    utc_now,
)
from db.feeds.folder import FolderSource
from db.feeds.reed import ReedSource
from db.feeds.url import UrlSource
from db.importers.document import InvalidImport
from db.ingest.aggregate import SnapshotRules
from db.ingest.pipeline import Ingestor
from db.ingest_models import IngestedAd
from db.snapshots import StoreOutcome
from db.taxonomy import Taxonomy

REQUEST_TIMEOUT_SECONDS = 60
ADZUNA_TRUNCATION_NOTE = (
    "Adzuna's search gives each ad's description cut short, so skills named only further "
    "down an ad are missed"
)


@dataclass(frozen=True)
class FeedConfig:
    """Where the providers are and the keys to use (ADZUNA_*, REED_* in the environment)."""

    adzuna_api_url: str = adzuna.DEFAULT_API_URL
    adzuna_app_id: str = ""
    adzuna_app_key: str = ""
    reed_api_url: str = reed.DEFAULT_API_URL
    reed_api_key: str = ""


@dataclass
class FeedRunResult:
    feed_id: int
    new: int = 0
    known: int = 0
    bad_rows: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    error: str = ""
    key_refused: bool = False
    snapshots_changed: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


class FeedRunner:
    """Runs feeds against one store; time, waiting and the providers' URLs are injected."""

    def __init__(
        self,
        engine: AsyncEngine,
        config: FeedConfig,
        *,
        now: Now = utc_now,
        sleep: Sleep = real_sleep,
        rules: SnapshotRules | None = None,
        taxonomy: Taxonomy | None = None,
        heartbeat: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.engine = engine
        # Called after every page or file stored: a run that makes progress keeps its lease.
        self.heartbeat = heartbeat
        self.config = config
        self.now = now
        self.sleep = sleep
        self.rules = rules
        self.taxonomy = taxonomy

    def _budget(self, feed: Feed) -> Budget:
        if feed.kind == FeedKind.ADZUNA:
            account, limits = account_of("adzuna", self.config.adzuna_app_id), ADZUNA_LIMITS
        elif feed.kind == FeedKind.REED:
            account, limits = account_of("reed", self.config.reed_api_key), REED_LIMITS
        else:
            account, limits = f"{feed.kind}:{feed.id}", NO_LIMITS
        return Budget(self.engine, account, limits, self.now, self.sleep)

    def _source(self, feed: Feed, client: PoliteClient, spool: Path) -> FeedSource:
        params = store.params_of(feed)
        config = self.config

        async def held(ids: list[str]) -> set[str]:
            return await held_ids(self.engine, feed.team_id, ids)

        if feed.kind == FeedKind.ADZUNA:
            if not (config.adzuna_app_id and config.adzuna_app_key):
                raise FeedError("ADZUNA_APP_ID and ADZUNA_APP_KEY are not set; set both and retry")
            return AdzunaSource(
                client,
                params,
                app_id=config.adzuna_app_id,
                app_key=config.adzuna_app_key,
                api_url=config.adzuna_api_url,
                held=held,
                now=self.now,
            )
        if feed.kind == FeedKind.REED:
            if not config.reed_api_key:
                raise FeedError("REED_API_KEY is not set; set it and retry")
            return ReedSource(
                client,
                client.budget,
                params,
                api_key=config.reed_api_key,
                api_url=config.reed_api_url,
                held=held,
            )
        if feed.kind == FeedKind.URL:
            return UrlSource(client, params, spool)
        return FolderSource(params)

    async def run(self, feed: Feed) -> FeedRunResult:
        assert feed.id is not None
        result = FeedRunResult(feed.id)
        checkpoint = store.checkpoint_of(feed)
        state: dict[str, Any] = checkpoint.get("source") or {}
        # The newest stored ad before this run (or before the crashed run it resumes):
        # what the run stores is above it, and its snapshots are recomputed at the end.
        run_from = checkpoint.get("run_from_id")
        if run_from is None:
            run_from = await _newest_ad_id(self.engine)
            await self._save(feed, state, run_from)
        ingestor = Ingestor(
            self.engine,
            team_id=feed.team_id,
            rules=self.rules,
            taxonomy=self.taxonomy,
            today=self.now().date(),
        )
        budget = self._budget(feed)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
        with tempfile.TemporaryDirectory(prefix=f"skillgap-feed-{feed.id}-") as spool:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                client = PoliteClient(
                    session, budget, name=_provider(feed), sleep=self.sleep, now=self.now
                )
                try:
                    source = self._source(feed, client, Path(spool))
                    async for batch in source.batches(state):
                        await self._store(batch, ingestor, result, Path(spool))
                        state = batch.state
                        await self._save(feed, state, run_from)
                        if self.heartbeat is not None:
                            await self.heartbeat()
                except KeyRefused as refused:
                    result.error = (
                        f"{refused}: check {_KEY_NAMES.get(feed.kind, 'the key')}, then "
                        f"`skillgap feeds run {feed.id}`; the feed is stopped until then"
                    )
                    result.key_refused = True
                    await store.set_status(
                        self.engine, feed.id, FeedStatus.STOPPED, result.error, self.now()
                    )
                except FeedError as failed:
                    result.error = str(failed)
                finally:
                    result.requests = client.requests
        await budget.forget_old()
        since = await _earliest_since(self.engine, feed.team_id, int(run_from))
        if since is not None:
            snapshots = await ingestor.recompute(since)
            result.snapshots_changed = sum(
                1 for s in snapshots if s.outcome is not StoreOutcome.UNCHANGED
            )
        await self._save(feed, state, None)
        return result

    async def _save(self, feed: Feed, state: dict[str, Any], run_from: int | None) -> None:
        checkpoint: dict[str, Any] = {"source": state}
        if run_from is not None:
            checkpoint["run_from_id"] = run_from
        assert feed.id is not None
        await store.save_checkpoint(self.engine, feed.id, checkpoint, self.now())

    async def _store(
        self, batch: Batch, ingestor: Ingestor, result: FeedRunResult, spool: Path
    ) -> None:
        path = batch.path
        if batch.rows is not None:
            if not batch.rows:
                return
            path = spool / "batch.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for row in batch.rows:
                    handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        try:
            summary = await ingestor.ingest_postings([Path(path)], recompute=False)
        except InvalidImport as refused:
            result.problems += [f"{batch.name}: {p.message}" for p in refused.problems]
            return
        result.new += summary.stored
        result.known += summary.duplicates
        result.bad_rows += summary.bad_rows
        result.problems += [f"{batch.name}: {p.message}" for p in summary.problems[:20]]


_KEY_NAMES = {
    FeedKind.ADZUNA: "ADZUNA_APP_ID and ADZUNA_APP_KEY",
    FeedKind.REED: "REED_API_KEY",
}


def _provider(feed: Feed) -> str:
    return {FeedKind.ADZUNA: "Adzuna", FeedKind.REED: "Reed"}.get(feed.kind, "The source")


async def held_ids(engine: AsyncEngine, team_id: str, ids: list[str]) -> set[str]:
    """Which source ids the owner already holds (as the pipeline keys them: "id:…")."""
    keys = {f"id:{source_id}": source_id for source_id in ids}
    async with session_factory(engine)() as session:
        found = (
            await session.exec(
                select(IngestedAd.ad_key).where(
                    IngestedAd.team_id == team_id, col(IngestedAd.ad_key).in_(list(keys))
                )
            )
        ).all()
    return {keys[key] for key in found}


async def _newest_ad_id(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        newest = (await session.exec(select(func.max(IngestedAd.id)))).one()
        return int(newest or 0)


async def _earliest_since(engine: AsyncEngine, team_id: str, run_from: int) -> date | None:
    async with session_factory(engine)() as session:
        query = select(func.min(IngestedAd.posted_on)).where(
            IngestedAd.team_id == team_id, col(IngestedAd.id) > run_from
        )
        value: date | None = (await session.exec(query)).one()
        return value

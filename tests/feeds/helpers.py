"""Feeds on a store against the stand-ins, with a fake clock that sleeps without waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import session_factory
from db.feed_models import Feed, FeedKind
from db.feeds import store
from db.feeds.runner import FeedConfig, FeedRunner, FeedRunResult
from db.feeds.runs import RunOutcome, run_feed
from db.feeds.schedule import FeedSchedule
from db.ingest.aggregate import SnapshotRules
from db.ingest_models import IngestedAd
from tests.feeds.standins import APP_ID, APP_KEY, REED_KEY, START, FakeTime

TEAM = "T0FEEDS"
RULES = SnapshotRules(min_ads=10, min_base_ads=10, emerging_min_ads=3, min_candidates=5)


def config_for(adzuna_url: str = "", reed_url: str = "", **keys: str) -> FeedConfig:
    return FeedConfig(
        adzuna_api_url=adzuna_url,
        adzuna_app_id=keys.get("app_id", APP_ID),
        adzuna_app_key=keys.get("app_key", APP_KEY),
        reed_api_url=reed_url,
        reed_api_key=keys.get("reed_key", REED_KEY),
    )


@dataclass
class FeedHarness:
    engine: AsyncEngine
    config: FeedConfig
    time: FakeTime
    heartbeats: int = 0

    async def add(self, kind: FeedKind, params: dict[str, Any], team: str = TEAM) -> Feed:
        return await store.add_feed(
            self.engine,
            kind,
            params,
            team_id=team,
            schedule=FeedSchedule(),
            now=self.time.now(),
            added_by="U0ADMIN",
        )

    async def run(self, feed: Feed) -> FeedRunResult:
        fresh = await store.get_feed(self.engine, feed.id or 0)
        assert fresh is not None

        async def heartbeat() -> None:
            self.heartbeats += 1

        runner = FeedRunner(
            self.engine,
            self.config,
            now=self.time.now,
            sleep=self.time.sleep,
            rules=RULES,
            heartbeat=heartbeat,
        )
        result = await runner.run(fresh)
        self.time.advance(timedelta(hours=1))
        return result

    async def run_recorded(self, feed: Feed) -> RunOutcome:
        fresh = await store.get_feed(self.engine, feed.id or 0)
        assert fresh is not None
        return await run_feed(
            self.engine,
            self.config,
            fresh,
            worker="test",
            now=self.time.now,
            sleep=self.time.sleep,
        )


def harness(engine: AsyncEngine, config: FeedConfig) -> FeedHarness:
    return FeedHarness(engine, config, FakeTime(START + timedelta(days=2)))


async def stored_ads(engine: AsyncEngine, team: str = TEAM) -> int:
    async with session_factory(engine)() as session:
        query = select(func.count()).select_from(IngestedAd).where(IngestedAd.team_id == team)
        return int((await session.exec(query)).one())


async def ads_of(engine: AsyncEngine, team: str = TEAM) -> list[IngestedAd]:
    async with session_factory(engine)() as session:
        query = select(IngestedAd).where(IngestedAd.team_id == team)
        return list((await session.exec(query)).all())

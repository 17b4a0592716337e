"""A feed run from start to ledger: asked for by hand, or claimed by a worker from the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed_models import Feed, FeedKind, FeedRun, FeedRunStatus, FeedStatus
from db.feeds import store
from db.feeds.fetching import Now, Sleep, real_sleep, utc_now
from db.feeds.runner import FeedConfig, FeedRunner, FeedRunResult
from db.settings import Settings


def feed_config(settings: Settings) -> FeedConfig:
    return FeedConfig(
        adzuna_api_url=settings.adzuna_api_url,
        adzuna_app_id=settings.adzuna_app_id,
        adzuna_app_key=settings.adzuna_app_key,
        reed_api_url=settings.reed_api_url,
        reed_api_key=settings.reed_api_key,
    )


def describe_feed(feed: Feed) -> str:
    """One line naming a feed: its number, source, search and owner."""
    params = store.params_of(feed)
    if feed.kind == FeedKind.ADZUNA:
        what = f'Adzuna "{params.get("what", "")}"'
        if params.get("where"):
            what += f" in {params['where']}"
        what += f" ({params.get('country', 'gb')})"
    elif feed.kind == FeedKind.REED:
        what = f'Reed "{params.get("keywords", "")}"'
        if params.get("location"):
            what += f" in {params['location']}"
    elif feed.kind == FeedKind.URL:
        what = f"URL {params.get('url', '')}"
    else:
        what = f"folder {params.get('path', '')}"
    owner = f"team {feed.team_id}" if feed.team_id else "public"
    return f"Feed {feed.id}: {what}, {owner}, {store.schedule_of(feed).describe()}"


@dataclass
class RunOutcome:
    feed: Feed
    result: FeedRunResult
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def summary_line(self) -> str:
        result = self.result
        head = f"Feed {self.feed.id}: "
        counts = f"{result.new} new, {result.known} already known"
        if result.bad_rows:
            counts += f", {result.bad_rows} bad row(s) skipped"
        counts += f" ({result.requests} request(s))"
        if result.error:
            return head + f"{result.error}. So far: {counts}."
        return head + counts + "."


async def _run(
    engine: AsyncEngine,
    config: FeedConfig,
    feed: Feed,
    run: FeedRun,
    worker: str,
    now: Now,
    sleep: Sleep,
) -> RunOutcome:
    assert feed.id is not None and run.id is not None
    if feed.status == FeedStatus.STOPPED:
        # Running a stopped feed is how someone says the key is fixed: try it again.
        await store.set_status(engine, feed.id, FeedStatus.ACTIVE, "", now())
        feed.status = FeedStatus.ACTIVE
    assert run.id is not None
    run_id = run.id

    async def heartbeat() -> bool:
        return await store.renew_lease(engine, run_id, worker, now())

    result = await FeedRunner(engine, config, now=now, sleep=sleep, heartbeat=heartbeat).run(feed)
    await store.finish_run(
        engine,
        run.id,
        worker,
        FeedRunStatus.FAILED if result.error else FeedRunStatus.DONE,
        now=now(),
        new_ads=result.new,
        known_ads=result.known,
        requests=result.requests,
        error=result.error,
    )
    if result.key_refused:
        feed.status = FeedStatus.STOPPED
    return RunOutcome(feed, result, result.problems)


async def run_feed(
    engine: AsyncEngine,
    config: FeedConfig,
    feed: Feed,
    *,
    worker: str,
    now: Now = utc_now,
    sleep: Sleep = real_sleep,
) -> RunOutcome:
    """Run a feed now, recorded in its history like a scheduled run."""
    run = await store.start_manual_run(engine, feed, now(), worker)
    return await _run(engine, config, feed, run, worker, now, sleep)


async def run_claimed(
    engine: AsyncEngine,
    config: FeedConfig,
    run: FeedRun,
    *,
    worker: str,
    now: Now = utc_now,
    sleep: Sleep = real_sleep,
) -> RunOutcome | None:
    """Run a slot a worker claimed; None when its feed was removed meanwhile."""
    feed = await store.get_feed(engine, run.feed_id)
    if feed is None:
        assert run.id is not None
        await store.finish_run(
            engine,
            run.id,
            worker,
            FeedRunStatus.FAILED,
            now=now(),
            new_ads=0,
            known_ads=0,
            requests=0,
            error="the feed was removed",
        )
        return None
    return await _run(engine, config, feed, run, worker, now, sleep)

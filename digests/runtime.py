"""Running the clock and workers: as processes (Procfile), or inside the bot (`make run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from db.digest_models import DeliveryKind
from db.feeds.runs import feed_config
from db.installations import installation_store
from db.market import MarketReader
from db.settings import Settings
from digests.clock import Clock
from digests.content import DigestBuilder
from digests.feed_work import FeedWork, slack_teller
from digests.personal_check import PersonalCheckComposer
from digests.sender import DigestSender, SenderConfig, TokenSource
from digests.worker import Worker

logger = logging.getLogger(__name__)


def token_source(settings: Settings, engine: AsyncEngine) -> TokenSource:
    """Each workspace's bot token: the installation store with OAuth, else the one bot token."""
    if settings.has_oauth_credentials:
        store = installation_store(settings, engine)

        async def installed(team_id: str) -> str | None:
            bot = await store.async_find_bot(enterprise_id=None, team_id=team_id)
            return None if bot is None else bot.bot_token

        return installed

    async def single(team_id: str) -> str | None:
        return settings.slack_bot_token

    return single


def sender_config(settings: Settings) -> SenderConfig:
    return SenderConfig(
        lease=timedelta(seconds=settings.digest_lease_seconds),
        workspace_rate=settings.digest_workspace_rate,
        max_attempts=settings.digest_max_attempts,
        backoff_base=settings.digest_backoff_seconds,
    )


def build_sender(
    settings: Settings, engine: AsyncEngine, market: MarketReader | None = None
) -> DigestSender:
    market = market or MarketReader(engine)
    sender = DigestSender(
        engine,
        DigestBuilder(market),
        token_source(settings, engine),
        api_url=settings.slack_api_url,
        config=sender_config(settings),
    )
    # The opt-in weekly personal DM (issue 4) rides on the same ledger and sender.
    sender.add_composer(DeliveryKind.PERSONAL_CHECK, PersonalCheckComposer(engine, market))
    return sender


def feed_work(settings: Settings, engine: AsyncEngine, sender: DigestSender) -> FeedWork:
    """Workers also run job-ad feeds, and DM the admin who added one its key was refused."""
    tell = slack_teller(sender.tokens, settings.slack_api_url)
    return FeedWork(engine, feed_config(settings), tell=tell)


def grace_of(settings: Settings) -> timedelta:
    return timedelta(hours=settings.digest_grace_hours)


@dataclass
class InProcessDigests:
    """Clock and worker running in the bot's own event loop (the embedded, one-process setup)."""

    clock: Clock
    worker: Worker
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        self.clock.stop()
        self.stop_event.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.worker.sender.close()


def start_in_process(
    settings: Settings, engine: AsyncEngine, market: MarketReader | None = None
) -> InProcessDigests:
    """Start the clock and one worker in the running loop; `await handle.stop()` to end them.

    For the embedded SQLite default only: with PostgreSQL run `skillgap clock` and
    `skillgap worker` as their own processes instead (one clock, any number of workers).
    """
    sender = build_sender(settings, engine, market)
    worker = Worker(engine, sender, concurrency=10, feeds=feed_work(settings, engine, sender))
    clock = Clock(engine, grace=grace_of(settings), on_due=worker._wake.set)
    handle = InProcessDigests(clock, worker)
    clock.start()
    handle.task = asyncio.create_task(worker.run(handle.stop_event))
    return handle


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)


async def run_clock(settings: Settings, engine: AsyncEngine) -> None:
    """`skillgap clock`: tick every minute until SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    clock = Clock(engine, grace=grace_of(settings))
    clock.start()
    logger.info("clock started (grace %s h)", settings.digest_grace_hours)
    try:
        await stop.wait()
    finally:
        clock.stop()


async def run_worker(
    settings: Settings, engine: AsyncEngine, *, until_idle: bool = False, concurrency: int = 50
) -> Worker:
    """`skillgap worker`: deliver until SIGTERM (or, with `until_idle`, until nothing is due)."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    sender = build_sender(settings, engine)
    worker = Worker(
        engine, sender, concurrency=concurrency, feeds=feed_work(settings, engine, sender)
    )
    logger.info("worker %s started", worker.name)
    try:
        await worker.run(stop, until_idle=until_idle)
    finally:
        await sender.close()
    return worker

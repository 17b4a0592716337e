"""The clock: one APScheduler job a minute turning due subscriptions and feeds into ledger rows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from db.feeds import store as feed_store
from digests import ledger
from digests.schedule import utc_now

logger = logging.getLogger(__name__)

TICK_JOB_ID = "skillgap-digest-tick"


class Clock:
    """Decides what is due. Schedules live in the `subscriptions` table, never in the scheduler:
    the scheduler holds one in-memory job, so nothing is pickled and restarts lose nothing."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        grace: timedelta,
        now: Callable[[], datetime] = utc_now,
        on_due: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.grace = grace
        self.now = now
        self.on_due = on_due  # e.g. wake an in-process worker
        self.scheduler: AsyncIOScheduler | None = None
        self.feed_runs_due = 0

    async def tick(self) -> ledger.TickResult:
        result = await ledger.tick(self.engine, self.now(), grace=self.grace)
        # Feeds' slots become feed runs in the same tick, claimed by the same workers.
        self.feed_runs_due = await feed_store.tick(self.engine, self.now())
        if self.feed_runs_due:
            logger.info("clock: %d feed run(s) due", self.feed_runs_due)
            if self.on_due is not None:
                self.on_due()
        if result.due or result.stale:
            logger.info(
                "clock: %d due, %d skipped as stale, %d schedules moved on",
                result.due,
                result.stale,
                result.subscriptions,
            )
        if result.due and self.on_due is not None:
            self.on_due()
        return result

    async def _safe_tick(self) -> None:
        try:
            await self.tick()
        except asyncio.CancelledError:
            # Shutting down mid-tick: the tick's transaction is rolled back, so the next
            # start simply ticks again; not an error worth a traceback.
            logger.info("clock tick interrupted by shutdown")
        except Exception:
            # The next tick tries again; nothing is lost because nothing was written.
            logger.exception("clock tick failed")

    def start(self) -> AsyncIOScheduler:
        """Start ticking every minute, and once straight away to catch up after a restart."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._safe_tick,
            CronTrigger(second=0, timezone="UTC"),
            id=TICK_JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=50,
            next_run_time=self.now(),
        )
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

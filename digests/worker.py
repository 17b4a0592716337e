"""The worker loop: claims due deliveries, a few per workspace at a time, and sends them."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.digest_models import Delivery, DeliveryStatus
from db.feed_models import FeedRun
from digests import ledger
from digests.feed_work import FeedWork
from digests.schedule import utc_now
from digests.sender import DigestSender

logger = logging.getLogger(__name__)

# How the in-flight table marks a feed run (its value is otherwise a delivery's team).
_FEED = "feed:"


def worker_name() -> str:
    """Unique per process and start: a lease names who holds it."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerStats:
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


class Worker:
    """Keeps up to `concurrency` deliveries in flight, at most `per_team` per workspace."""

    def __init__(
        self,
        engine: AsyncEngine,
        sender: DigestSender,
        *,
        name: str | None = None,
        concurrency: int = 50,
        per_team: int = 2,
        poll_seconds: float = 2.0,
        clock: Callable[[], datetime] = utc_now,
        feeds: FeedWork | None = None,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.name = name or worker_name()
        self.concurrency = concurrency
        self.per_team = per_team
        self.poll_seconds = poll_seconds
        self.min_batch = max(1, concurrency // 5)
        self.clock = clock
        self.feeds = feeds
        self.stats = WorkerStats()
        self._in_flight: dict[asyncio.Task[None], str] = {}
        self._wake = asyncio.Event()

    def _team_counts(self) -> Counter[str]:
        return Counter(self._in_flight.values())

    async def claim_and_start(self) -> int:
        """Claim what fits and start sending it; returns how many were claimed."""
        free = self.concurrency - len(self._in_flight)
        # Claim in batches: each claim ranks every due row, so one row at a time costs
        # a scan per delivery.
        if free <= 0 or (self._in_flight and free < self.min_batch):
            return 0
        busy = [
            team
            for team, count in self._team_counts().items()
            if count >= self.per_team and not team.startswith(_FEED)
        ]
        claimed = await ledger.claim(
            self.engine,
            self.name,
            self.clock(),
            lease=self.sender.config.lease,
            limit=free,
            per_team=self.per_team,
            exclude_teams=busy,
        )
        context = await ledger.context_for(self.engine, claimed)
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(delivery, context))
            self._in_flight[task] = delivery.team_id
            task.add_done_callback(self._finished)
        return len(claimed) + await self._claim_feed_runs()

    async def _claim_feed_runs(self) -> int:
        """Feed runs ride on the same worker, a few at a time (they are long and polite)."""
        if self.feeds is None:
            return 0
        running = sum(1 for owner in self._in_flight.values() if owner.startswith(_FEED))
        runs = await self.feeds.claim(self.name, self.feeds.concurrency - running)
        for run in runs:
            task = asyncio.create_task(self._run_feed(run))
            self._in_flight[task] = f"{_FEED}{run.team_id}"
            task.add_done_callback(self._finished)
        return len(runs)

    async def _run_feed(self, run: FeedRun) -> None:
        assert self.feeds is not None
        try:
            outcome = await self.feeds.run(run, self.name)
        except Exception:
            # A bug, not the job board: the lease runs out and the run is tried again.
            logger.exception("feed run %s crashed", run.id)
            outcome = "feed_crashed"
        self.stats.outcomes[outcome] += 1

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._wake.set()

    async def _deliver(self, delivery: Delivery, context: ledger.ClaimContext) -> None:
        try:
            status = await self.sender.deliver(delivery, self.name, context)
        except Exception:
            # A bug, not Slack: leave the row to its lease so it is retried, and say so.
            logger.exception("delivery %s crashed", delivery.id)
            status = DeliveryStatus.SENDING
        self.stats.outcomes[str(status)] += 1

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> None:
        """Work until `stop` is set (or, with `until_idle`, until nothing is left to send)."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                self._wake.clear()
                claimed = await self.claim_and_start()
                if (
                    until_idle
                    and not claimed
                    and not self._in_flight
                    and await ledger.outstanding(self.engine) == 0
                    and (self.feeds is None or await self.feeds.outstanding() == 0)
                ):
                    return
                if claimed and len(self._in_flight) < self.concurrency:
                    continue  # there may be more to claim right away
                waiters = [asyncio.ensure_future(self._wake.wait())]
                waiters.append(asyncio.ensure_future(stop.wait()))
                await asyncio.wait(
                    waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if self._in_flight:
                # Finish what was started: a lease left behind would delay those channels.
                await asyncio.gather(*self._in_flight, return_exceptions=True)

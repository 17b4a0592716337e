"""Feed runs as worker jobs: claimed from the feed ledger like deliveries, run, and reported."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed_models import Feed, FeedRun
from db.feeds import store
from db.feeds.fetching import Sleep, real_sleep
from db.feeds.runner import FeedConfig
from db.feeds.runs import describe_feed, run_claimed
from digests.schedule import utc_now
from digests.sender import TokenSource
from templates import SlackMessage, render_message

logger = logging.getLogger(__name__)

# Tells a person something by DM in their workspace: (team id, user id, message).
Tell = Callable[[str, str, SlackMessage], Awaitable[bool]]


def slack_teller(tokens: TokenSource, api_url: str) -> Tell:
    """DMs through Slack's Web API with each workspace's bot token (rare: no shared client)."""

    async def tell(team_id: str, user_id: str, message: SlackMessage) -> bool:
        token = await tokens(team_id)
        if token is None:
            return False
        client = AsyncWebClient(token=token, base_url=api_url)
        try:
            await client.chat_postMessage(channel=user_id, **message.as_kwargs())
        except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError):
            return False
        return True

    return tell


@dataclass
class FeedWork:
    """What a worker needs to run feeds beside delivering digests."""

    engine: AsyncEngine
    config: FeedConfig
    tell: Tell | None = None
    clock: Callable[[], datetime] = utc_now
    sleep: Sleep = real_sleep
    lease: timedelta = store.LEASE
    concurrency: int = 1  # job boards' limits are per key: runs one after another

    async def claim(self, worker: str, limit: int) -> list[FeedRun]:
        await store.fail_worn_out(self.engine, self.clock())
        return await store.claim(
            self.engine, worker, self.clock(), lease=self.lease, limit=min(limit, self.concurrency)
        )

    async def outstanding(self) -> int:
        return await store.outstanding(self.engine)

    async def run(self, run: FeedRun, worker: str) -> str:
        outcome = await run_claimed(
            self.engine, self.config, run, worker=worker, now=self.clock, sleep=self.sleep
        )
        if outcome is None:
            return "failed"
        logger.info("%s", outcome.summary_line)
        if outcome.result.key_refused:
            await self._tell_admin(outcome.feed, outcome.result.error)
        return "feed_failed" if outcome.result.error else "feed_done"

    async def _tell_admin(self, feed: Feed, reason: str) -> None:
        if self.tell is None or not feed.added_by or not feed.team_id:
            return
        message = render_message(
            "feed_stopped.j2",
            feed=describe_feed(feed),
            feed_id=feed.id,
            reason=reason.split(": check", 1)[0],
        )
        if not await self.tell(feed.team_id, feed.added_by, message):
            logger.warning("could not tell %s that feed %s stopped", feed.added_by, feed.id)

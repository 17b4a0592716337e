"""Polite HTTP for feeds: requests planned within a provider's limits, 429s and 5xx waited out.

Every request is written to `feed_api_calls` before it is sent, so the limits hold across
runs, feeds sharing a key, restarts and several workers. Time and waiting are injected, so
tests run a day of Retry-After and back-off without sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import session_factory, transaction
from db.feed_models import FeedApiCall

Now = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# A calendar month is at most 31 days: a rolling 31 days never lets one overspend.
MONTH = timedelta(days=31)


def utc_now() -> datetime:
    return datetime.now(UTC)


class FeedError(Exception):
    """A run cannot go on; the message is one line for a person, saying what to do."""


class KeyRefused(FeedError):
    """The provider refused the key: the feed stops until the key is fixed."""


class SourceFailed(FeedError):
    """The source kept failing or answered nonsense; the next run tries again."""


class BudgetSpent(FeedError):
    """The provider's daily, weekly or monthly limit is reached; the next run resumes."""


@dataclass(frozen=True)
class Limits:
    """A provider's request limits per key; None where it sets none."""

    per_minute: int | None = None
    per_day: int | None = None
    per_week: int | None = None
    per_month: int | None = None

    def windows(self) -> list[tuple[str, timedelta, int]]:
        spans = (
            ("minute", MINUTE, self.per_minute),
            ("day", DAY, self.per_day),
            ("week", WEEK, self.per_week),
            ("month", MONTH, self.per_month),
        )
        return [(name, span, limit) for name, span, limit in spans if limit is not None]


# Adzuna's default API access limits (developer.adzuna.com terms of service).
ADZUNA_LIMITS = Limits(per_minute=25, per_day=250, per_week=1000, per_month=2500)
# Reed publishes no figures for its jobseeker API: a modest pace we keep well within.
REED_LIMITS = Limits(per_minute=30, per_day=1000)
NO_LIMITS = Limits()


def account_of(provider: str, key: str) -> str:
    """Limits are per key: the ledger names the key by a digest, never the key itself."""
    return f"{provider}:{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}"


class Budget:
    """Plans requests within a key's limits: waits out the minute, stops at the day's end."""

    def __init__(
        self, engine: AsyncEngine, account: str, limits: Limits, now: Now, sleep: Sleep
    ) -> None:
        self.engine = engine
        self.account = account
        self.limits = limits
        self.now = now
        self.sleep = sleep

    async def _recent(self, since: datetime) -> list[datetime]:
        async with session_factory(self.engine)() as session:
            query = select(FeedApiCall.called_at).where(
                FeedApiCall.account == self.account, col(FeedApiCall.called_at) > since
            )
            return sorted((await session.exec(query)).all())

    async def remaining(self) -> int | None:
        """Requests left before a limit other than the minute's is reached (None: no limit)."""
        left: int | None = None
        now = self.now()
        windows = [w for w in self.limits.windows() if w[0] != "minute"]
        if not windows:
            return None
        calls = await self._recent(now - max(span for _, span, _ in windows))
        for _, span, limit in windows:
            used = sum(1 for called in calls if called > now - span)
            left = limit - used if left is None else min(left, limit - used)
        return max(0, left or 0)

    async def spend(self) -> None:
        """Take one request from the budget, waiting while the minute's limit is reached."""
        windows = self.limits.windows()
        while windows:
            now = self.now()
            calls = await self._recent(now - max(span for _, span, _ in windows))
            wait = 0.0
            for name, span, limit in windows:
                inside = [called for called in calls if called > now - span]
                if len(inside) < limit:
                    continue
                free_at = inside[len(inside) - limit] + span
                if name != "minute":
                    raise BudgetSpent(
                        f"the {name}'s limit of {limit} requests for this key is used up; "
                        f"the feed resumes from where it stopped after {free_at:%Y-%m-%d %H:%M} UTC"
                    )
                wait = max(wait, (free_at - now).total_seconds())
            if wait <= 0:
                break
            await self.sleep(wait)
        if windows:  # only calls that count against a limit are worth remembering
            async with transaction(self.engine) as session:
                session.add(FeedApiCall(account=self.account, called_at=self.now()))

    async def forget_old(self) -> None:
        """Calls older than the longest window no longer count."""
        async with transaction(self.engine) as session:
            await session.execute(
                delete(FeedApiCall).where(
                    col(FeedApiCall.account) == self.account,
                    col(FeedApiCall.called_at) < self.now() - MONTH,
                )
            )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class PoliteClient:
    """GETs through a budget: 429 waits for Retry-After, 5xx and dropped connections back off
    (1 s, 2 s, 4 s …), 401/403 is a refused key, anything else unexpected fails the run."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        budget: Budget,
        *,
        name: str,
        sleep: Sleep,
        now: Now,
        attempts: int = 5,
        backoff: float = 1.0,
        longest_wait: float = 3600.0,
    ) -> None:
        self.session = session
        self.budget = budget
        self.name = name
        self.sleep = sleep
        self.now = now
        self.attempts = attempts
        self.backoff = backoff
        self.longest_wait = longest_wait
        self.requests = 0

    async def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        failures = 0
        last = ""
        while failures < self.attempts:
            await self.budget.spend()
            self.requests += 1
            try:
                async with self.session.get(
                    url, params=params, headers=headers, allow_redirects=True
                ) as response:
                    answer = Answer(response.status, dict(response.headers), await response.read())
            except (aiohttp.ClientError, TimeoutError) as problem:
                failures += 1
                last = f"could not be reached ({type(problem).__name__})"
                await self.sleep(self.backoff * 2 ** (failures - 1))
                continue
            if answer.status in (401, 403):
                raise KeyRefused(f"{self.name} refused the key (HTTP {answer.status})")
            if answer.status == 429:
                # Waiting is not failing, but a source that only ever says "later" must end.
                failures += 1
                wait = retry_after_seconds(answer.headers.get("Retry-After"), self.now())
                wait = self.backoff * 2 ** (failures - 1) if wait is None else wait
                if wait > self.longest_wait:
                    raise SourceFailed(
                        f"{self.name} asked to wait {wait / 60:.0f} minutes; the next run resumes"
                    )
                last = "asked to slow down (HTTP 429)"
                await self.sleep(wait)
                continue
            if answer.status >= 500:
                failures += 1
                last = f"answered HTTP {answer.status}"
                await self.sleep(self.backoff * 2 ** (failures - 1))
                continue
            return answer
        raise SourceFailed(
            f"{self.name} {last} {self.attempts} times in a row; the next run tries again"
        )

    async def get_json(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        answer = await self.get(url, params=params, headers=headers)
        if answer.status != 200:
            raise SourceFailed(f"{self.name} answered HTTP {answer.status} to {_path_of(url)}")
        try:
            return json.loads(answer.body)
        except ValueError:
            raise SourceFailed(
                f"{self.name} answered {_path_of(url)} with something that is not JSON; "
                f"nothing from it was stored"
            ) from None


def _path_of(url: str) -> str:
    # Never the query string: it can hold the key.
    return url.split("?", 1)[0]


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


# -- what sources hand the runner ------------------------------------------------------------

# Which of these source ids (e.g. "adzuna-123") the feed's owner already holds.
HeldIds = Callable[[list[str]], Awaitable[set[str]]]


@dataclass
class Batch:
    """Ads to store (rows, or a file), and the source's checkpoint once they are stored."""

    name: str  # what a problem is reported against, e.g. "Adzuna page 2"
    state: dict[str, Any]
    rows: list[dict[str, Any]] | None = None
    path: Any = None  # a pathlib.Path of a CSV or JSON Lines file


class FeedSource:
    """One kind of feed: yields batches newest first, resuming from `state`."""

    def batches(self, state: dict[str, Any]) -> Any:  # AsyncIterator[Batch]
        raise NotImplementedError

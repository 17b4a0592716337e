"""What the digest sender works with: compositions, composers, settings, rate limits, failures."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from db.digest_models import Delivery, Subscription
from digests.charts import Chart
from templates import SlackMessage


@dataclass(frozen=True)
class Composition:
    """What to post for a delivery: the message, its thread replies, charts for the thread."""

    parts: tuple[SlackMessage, ...]
    charts: tuple[Chart, ...] = ()
    quiet: bool = False


class Composer(Protocol):
    async def __call__(self, delivery: Delivery, subscription: Subscription) -> Composition: ...


TokenSource = Callable[[str], Awaitable[str | None]]


@dataclass
class SenderConfig:
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 6  # attempts that ended in a 5xx, timeout or connection error
    backoff_base: float = 30.0  # seconds before the first retry; doubles each time
    backoff_cap: float = 1800.0
    rate_limit_waits: int = 20  # 429s waited out inside one attempt before handing it back
    workspace_rate: float = 5.0  # chat.postMessage calls per second per workspace
    channel_rate: float = 1.0  # ... per channel (Slack's documented limit)
    timeout: float = 15.0
    charts: bool = True


class RateLimiter:
    """Evenly spaced slots per key (a workspace, a channel), shared by every task in a process."""

    def __init__(self, rate_per_second: float) -> None:
        self.interval = 1.0 / rate_per_second
        self._next: dict[str, float] = {}

    def reserve(self, key: str) -> float:
        """Book the key's next slot and return how long to wait for it."""
        now = time.monotonic()
        slot = max(now, self._next.get(key, 0.0))
        self._next[key] = slot + self.interval
        return slot - now

    def hold(self, key: str, seconds: float) -> None:
        """Slack said wait: nothing for this key before `seconds` from now."""
        self._next[key] = max(self._next.get(key, 0.0), time.monotonic() + seconds)


class DeliveryFailed(Exception):
    def __init__(self, error: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after

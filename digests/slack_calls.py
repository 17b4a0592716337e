"""How the sender's calls to Slack are paced and how their failures are sorted: retryable or not."""

from __future__ import annotations

import time

import aiohttp


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


async def upload_file(
    session: aiohttp.ClientSession, url: str, content: bytes, *, time_limit: float
) -> None:
    """Send a file's bytes to the upload URL Slack handed out (files.getUploadURLExternal)."""
    try:
        async with session.post(
            url, data=content, timeout=aiohttp.ClientTimeout(total=time_limit)
        ) as response:
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as problem:
        raise DeliveryFailed(
            f"{type(problem).__name__} uploading a file", retryable=True
        ) from problem
    if status != 200:
        raise DeliveryFailed(f"HTTP {status} uploading a file", retryable=status >= 500)

"""A CSV or JSON Lines file at an HTTPS URL, fetched again only when it has changed."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from db.feeds.fetching import Batch, FeedError, FeedSource, PoliteClient, SourceFailed

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_url(url: str) -> str:
    """HTTPS only (plain HTTP to this machine is allowed, for stand-ins and local tools)."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip()
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url.strip()
    raise FeedError(f"{url!r} is not an HTTPS URL; a feed fetches https://… addresses only")


class UrlSource(FeedSource):
    def __init__(self, client: PoliteClient, params: dict[str, Any], spool: Path) -> None:
        self.client = client
        self.url = check_url(str(params.get("url", "")))
        self.spool = spool

    async def batches(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        answer = await self.client.get(self.url, headers=headers)
        if answer.status == 304:
            return  # unchanged since the last run: nothing to read
        if answer.status != 200:
            raise SourceFailed(f"{self.url} answered HTTP {answer.status}")
        suffix = ".jsonl" if answer.body.lstrip()[:1] == b"{" else ".csv"
        with tempfile.NamedTemporaryFile(dir=self.spool, suffix=suffix, delete=False) as handle:
            handle.write(answer.body)
        lowered = {name.lower(): value for name, value in answer.headers.items()}
        done = {"etag": lowered.get("etag", ""), "last_modified": lowered.get("last-modified", "")}
        yield Batch(self.url, done, path=Path(handle.name))

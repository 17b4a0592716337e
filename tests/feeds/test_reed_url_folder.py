"""Reed, URL and folder feeds: full descriptions within the budget, ETags, files read once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed_models import FeedKind
from db.feeds.fetching import Budget, BudgetSpent, Limits
from db.feeds.url import check_url
from db.models import PayKind
from tests.feeds.helpers import FeedHarness, ads_of, config_for, harness, stored_ads
from tests.feeds.standins import LocalServer, ReedStandIn, adzuna_ad


@pytest.fixture
async def reed() -> AsyncIterator[ReedStandIn]:
    async with ReedStandIn() as running:
        yield running


async def test_reed_pages_fetches_full_ads_and_stops_at_a_page_with_nothing_new(
    sqlite_engine: AsyncEngine, reed: ReedStandIn
) -> None:
    reed.add_ads(0, 150)
    feeds = harness(sqlite_engine, config_for(reed_url=reed.url))
    feed = await feeds.add(FeedKind.REED, {"keywords": "ai engineer", "location": "London"})
    first = await feeds.run(feed)
    assert (first.new, first.error) == (150, "")
    searches = [r for r in reed.requests if r["path"] == "/search"]
    assert [(r["resultsToSkip"], r["resultsToTake"]) for r in searches] == [
        ("0", "100"),
        ("100", "100"),
    ]
    assert searches[0]["keywords"] == "ai engineer" and searches[0]["locationName"] == "London"
    assert sum(1 for r in reed.requests if r["path"].startswith("/jobs/")) == 150

    ads = {ad.ad_key: ad for ad in await ads_of(sqlite_engine)}
    contract = ads["id:reed-55000001"]  # a day-rate contract, posted 30/11/2026
    assert contract.posted_on == date(2026, 11, 30)
    assert (contract.pay_kind, contract.pay_value) == (PayKind.DAILY, 575.0)
    # The full description (HTML stripped) was read, not the search snippet.
    assert {"kubernetes", "pytorch"} <= set(contract.skills.split("|"))

    reed.requests.clear()
    reed.add_ads(150, 5)
    second = await feeds.run(feed)
    assert (second.new, second.known) == (5, 0)
    assert [r["path"] for r in reed.requests].count("/search") == 2
    assert await stored_ads(sqlite_engine) == 155


async def test_reed_keeps_the_snippet_when_the_budget_has_no_room_for_details(
    sqlite_engine: AsyncEngine, reed: ReedStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("db.feeds.runner.REED_LIMITS", Limits(per_minute=100, per_day=8))
    reed.add_ads(0, 20)
    feeds = harness(sqlite_engine, config_for(reed_url=reed.url))
    feed = await feeds.add(FeedKind.REED, {"keywords": "ai engineer"})
    result = await feeds.run(feed)
    assert (result.new, result.error) == (20, "")
    details = [r for r in reed.requests if r["path"].startswith("/jobs/")]
    assert len(details) == 2  # 8 a day, 1 search, 5 kept back for searching


async def test_reed_refused_key(sqlite_engine: AsyncEngine, reed: ReedStandIn) -> None:
    reed.add_ads(0, 3)
    feeds = harness(sqlite_engine, config_for(reed_url=reed.url, reed_key="nope"))
    feed = await feeds.add(FeedKind.REED, {"keywords": "ai"})
    result = await feeds.run(feed)
    assert result.key_refused
    assert result.error.startswith("Reed refused the key (HTTP 401): check REED_API_KEY")


async def test_budget_waits_out_the_minute_and_stops_at_the_days_limit(
    feeds_time_engine: tuple[FeedHarness, AsyncEngine],
) -> None:
    feeds, engine = feeds_time_engine
    budget = Budget(
        engine, "test:key", Limits(per_minute=2, per_day=5), feeds.time.now, feeds.time.sleep
    )
    for _ in range(5):
        await budget.spend()
    # Two a minute: the third and fifth waited for the minute to free up.
    assert feeds.time.slept == [60.0, 60.0]
    assert await budget.remaining() == 0
    with pytest.raises(BudgetSpent, match="the day's limit of 5 requests for this key is used up"):
        await budget.spend()


@pytest.fixture
def feeds_time_engine(sqlite_engine: AsyncEngine) -> tuple[FeedHarness, AsyncEngine]:
    return harness(sqlite_engine, config_for()), sqlite_engine


class FileServer(LocalServer):
    """Serves one CSV or JSON Lines body with an ETag, answering 304 when it matches."""

    def __init__(self) -> None:
        self.body = b""
        self.etag = '"v1"'
        self.requests: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304)
        return web.Response(body=self.body, headers={"ETag": self.etag})

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/export.jsonl", self.handle)


def _jsonl(numbers: range) -> bytes:
    return "".join(json.dumps(adzuna_ad(n)) + "\n" for n in numbers).encode()


async def test_url_feed_fetches_again_only_when_the_file_changed(
    sqlite_engine: AsyncEngine,
) -> None:
    async with FileServer() as files:
        files.body = _jsonl(range(0, 12))
        feeds = harness(sqlite_engine, config_for())
        url = files.url_of("/export.jsonl")
        feed = await feeds.add(FeedKind.URL, {"url": url})
        assert (await feeds.run(feed)).new == 12
        unchanged = await feeds.run(feed)
        assert (unchanged.new, unchanged.known, unchanged.error) == (0, 0, "")
        assert files.requests[-1]["If-None-Match"] == '"v1"'
        files.body, files.etag = _jsonl(range(0, 15)), '"v2"'
        changed = await feeds.run(feed)
        assert (changed.new, changed.known) == (3, 12)


def test_url_feeds_must_be_https() -> None:
    assert check_url("https://example.com/ads.csv") == "https://example.com/ads.csv"
    with pytest.raises(Exception, match="is not an HTTPS URL"):
        check_url("http://example.com/ads.csv")


async def test_folder_feed_reads_each_new_file_once(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "monday.jsonl").write_bytes(_jsonl(range(0, 10)))
    (inbox / "notes.txt").write_text("not an export")
    feeds = harness(sqlite_engine, config_for())
    feed = await feeds.add(FeedKind.FOLDER, {"path": str(inbox)})
    assert (await feeds.run(feed)).new == 10
    again = await feeds.run(feed)
    assert (again.new, again.known) == (0, 0)  # nothing new dropped: nothing read
    # A copy of Monday's file and a new one with five of the same ads: counted once each.
    (inbox / "monday-copy.jsonl").write_bytes(_jsonl(range(0, 10)))
    (inbox / "tuesday.jsonl").write_bytes(_jsonl(range(5, 20)))
    (inbox / "broken.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    later = await feeds.run(feed)
    assert (later.new, later.known) == (10, 5)
    assert later.problems == [
        f"{inbox / 'broken.csv'}: is a PNG image, not a CSV or JSON Lines export"
    ]
    assert await stored_ads(sqlite_engine) == 20

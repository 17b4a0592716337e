"""Adzuna feeds over real HTTP: paging, newest-first stop, resume, waits, refusals, bad answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.engine import session_factory
from db.feed_models import FeedKind, FeedStatus
from db.feeds import store
from db.feeds.fetching import ADZUNA_LIMITS
from db.ingest.pipeline import Ingestor
from db.models import MarketSnapshot, PayKind
from tests.feeds.helpers import TEAM, FeedHarness, ads_of, config_for, harness, stored_ads
from tests.feeds.standins import AdzunaStandIn, Scripted

AI = {"what": "ai engineer", "country": "gb"}


@pytest.fixture
async def adzuna() -> AsyncIterator[AdzunaStandIn]:
    async with AdzunaStandIn() as running:
        yield running


@pytest.fixture
def feeds(engine: AsyncEngine, adzuna: AdzunaStandIn) -> FeedHarness:
    """On SQLite and on PostgreSQL."""
    return harness(engine, config_for(adzuna.url))


async def test_pages_then_stops_at_the_ads_it_already_has(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 120)
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    first = await feeds.run(feed)
    assert (first.new, first.known, first.error) == (120, 0, "")
    assert [r["page"] for r in adzuna.requests] == ["1", "2", "3"]
    assert {r["results_per_page"] for r in adzuna.requests} == {"50"}
    assert {r["sort_by"] for r in adzuna.requests} == {"date"}
    assert adzuna.requests[0]["what"] == "ai engineer"

    assert feeds.heartbeats == 3  # one per page stored: a long run keeps its lease

    adzuna.requests.clear()
    adzuna.add_ads(120, 10)
    second = await feeds.run(feed)
    assert (second.new, second.known, second.requests) == (10, 0, 1)
    assert len(adzuna.requests) == 1
    # The second run asks only for the days since the newest ad it had.
    assert int(adzuna.requests[0]["max_days_old"]) <= 5
    assert await stored_ads(feeds.engine) == 130


async def test_feed_ads_become_the_teams_figures_without_predicted_salaries(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 60)  # all in the week of 30 November 2026; a third in London
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert result.new == 60 and result.snapshots_changed > 0
    ads = await ads_of(feeds.engine)
    predicted = [ad for ad in ads if ad.ad_key.endswith(("0", "5"))]
    assert len(predicted) == 12 and all(ad.pay_value is None for ad in predicted)
    assert all(ad.ad_key.startswith("id:adzuna-") for ad in ads)
    async with session_factory(feeds.engine)() as session:
        snapshots = (
            await session.exec(
                select(MarketSnapshot).where(
                    MarketSnapshot.team_id == TEAM,
                    MarketSnapshot.period_label == "2026-W49",
                )
            )
        ).all()
    assert {(s.region, s.sample_size) for s in snapshots} == {("UK", 60), ("London", 20)}


async def test_a_killed_run_resumes_and_stores_nothing_twice(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 120)
    feed = await feeds.add(FeedKind.ADZUNA, AI)

    class Killed(BaseException):
        """The process dying: nothing after it runs but `finally` blocks."""

    async def die(seconds: float) -> None:
        raise Killed

    # Page 2 says "slow down", and the process dies while waiting, after page 1 was stored.
    adzuna.page_script["2"] = Scripted([(429, {"Retry-After": "20"}, "")])
    real_sleep = feeds.time.sleep
    feeds.time.sleep = die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await feeds.run(feed)
    assert await stored_ads(feeds.engine) == 50
    checkpoint = await _checkpoint(feeds, feed.id or 0)
    assert checkpoint["source"]["pending"]["page"] == 2
    assert "run_from_id" in checkpoint

    feeds.time.sleep = real_sleep  # type: ignore[method-assign]
    adzuna.requests.clear()
    resumed = await feeds.run(feed)
    assert (resumed.new, resumed.error) == (70, "")
    assert [r["page"] for r in adzuna.requests] == ["2", "3"]
    assert await stored_ads(feeds.engine) == 120
    assert resumed.snapshots_changed > 0  # the killed run's ads are in the figures too
    after = await _checkpoint(feeds, feed.id or 0)
    assert "run_from_id" not in after and after["source"]["pending"] is None


async def _checkpoint(feeds: FeedHarness, feed_id: int) -> dict[str, Any]:
    feed = await store.get_feed(feeds.engine, feed_id)
    assert feed is not None
    return store.checkpoint_of(feed)


async def test_retry_after_is_honoured_without_sleeping_for_real(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 30)
    adzuna.script.answers = [(429, {"Retry-After": "17"}, "slow down")]
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert (result.new, result.error, result.requests) == (30, "", 2)
    assert feeds.time.slept == [17.0]


async def test_a_burst_of_server_errors_is_retried_with_backoff(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 30)
    adzuna.script.answers = [(503, {}, "busy")] * 3
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert (result.new, result.error) == (30, "")
    assert feeds.time.slept == [1.0, 2.0, 4.0]


async def test_server_errors_that_do_not_stop_fail_the_run_and_keep_the_checkpoint(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 30)
    adzuna.script.answers = [(502, {}, "bad gateway")] * 5
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert result.new == 0
    assert result.error == "Adzuna answered HTTP 502 5 times in a row; the next run tries again"
    later = await feeds.run(feed)
    assert (later.new, later.error) == (30, "")


async def test_a_refused_key_stops_that_feed_with_one_clear_line(
    sqlite_engine: AsyncEngine, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 30)
    feeds = harness(sqlite_engine, config_for(adzuna.url, app_key="wrong"))
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert result.key_refused and result.new == 0
    assert result.error.startswith("Adzuna refused the key (HTTP 401): check ADZUNA_APP_ID")
    assert "\n" not in result.error and "wrong" not in result.error
    stopped = await store.get_feed(sqlite_engine, feed.id or 0)
    assert stopped is not None and stopped.status == FeedStatus.STOPPED
    assert len(adzuna.requests) == 1  # no retries against a refused key


async def test_malformed_json_stores_nothing_and_says_so(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 30)
    adzuna.script.answers = [(200, {"Content-Type": "application/json"}, '{"results": [')]
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert result.error == (
        f"Adzuna answered {adzuna.url}/jobs/gb/search/1 with something that is not JSON; "
        "nothing from it was stored"
    )
    assert await stored_ads(feeds.engine) == 0


async def test_an_answer_without_results_is_refused(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.script.answers = [(200, {}, '{"count": 3}')]
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert result.error == "Adzuna's answer has no list of results; nothing from it was stored"


async def test_an_empty_result_is_not_an_error(feeds: FeedHarness, adzuna: AdzunaStandIn) -> None:
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert (result.new, result.known, result.error, result.requests) == (0, 0, "", 1)


async def test_two_feeds_overlapping_store_each_ad_once(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 40)
    one = await feeds.add(FeedKind.ADZUNA, AI)
    two = await feeds.add(FeedKind.ADZUNA, {**AI, "where": "london"})
    assert (await feeds.run(one)).new == 40
    again = await feeds.run(two)
    assert (again.new, again.known) == (0, 40)
    # Another team's feed keeps its own copy: figures are per owner.
    other = await feeds.add(FeedKind.ADZUNA, AI, team="T0OTHER")
    assert (await feeds.run(other)).new == 40


def test_adzunas_documented_limits_are_the_budget() -> None:
    assert (ADZUNA_LIMITS.per_minute, ADZUNA_LIMITS.per_day) == (25, 250)
    assert (ADZUNA_LIMITS.per_week, ADZUNA_LIMITS.per_month) == (1000, 2500)


async def test_salaries_and_places_are_read_from_adzunas_fields(
    feeds: FeedHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(1, 4)  # numbers 1..4: none predicted; number 3 in London
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    await feeds.run(feed)
    ads = {ad.ad_key: ad for ad in await ads_of(feeds.engine)}
    london = ads["id:adzuna-4000000003"]
    assert london.is_london and london.pay_kind == PayKind.ANNUAL
    assert london.pay_value == (61500 + 71500) / 2
    assert not ads["id:adzuna-4000000001"].is_london


async def test_ads_already_ingested_from_an_export_count_as_known(
    feeds: FeedHarness, adzuna: AdzunaStandIn, tmp_path: Path
) -> None:
    # The same Adzuna records, exported earlier and ingested as a file (their own ids).
    adzuna.add_ads(0, 20)
    export = tmp_path / "adzuna-export.jsonl"
    export.write_text("".join(json.dumps(ad) + "\n" for ad in adzuna.ads))
    ingested = await Ingestor(feeds.engine, team_id=TEAM).ingest_postings([export])
    assert ingested.stored == 20
    feed = await feeds.add(FeedKind.ADZUNA, AI)
    result = await feeds.run(feed)
    assert (result.new, result.known) == (0, 20)  # the same words: the same ads
    assert await stored_ads(feeds.engine) == 20

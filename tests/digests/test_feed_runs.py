"""Feeds on the digest clock and workers: three weeks of a daily feed and a weekly digest."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.slack_stub import SlackStub
from db.engine import session_factory
from db.feed_models import Feed, FeedKind, FeedRun, FeedRunStatus, FeedStatus
from db.feeds import store
from db.feeds.schedule import FeedSchedule
from db.market import MarketReader
from digests.clock import Clock
from digests.content import DigestBuilder
from digests.feed_work import FeedWork, slack_teller
from digests.schedule import WeeklySchedule
from digests.sender import DigestSender
from digests.worker import Worker
from tests.digests.conftest import TEAM, DigestHarness
from tests.feeds.helpers import config_for
from tests.feeds.standins import AdzunaStandIn, adzuna_ad

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # London is on UTC in winter
ADS_A_DAY = 12


@pytest.fixture
async def adzuna() -> AsyncIterator[AdzunaStandIn]:
    async with AdzunaStandIn() as running:
        yield running


async def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"nothing here should wait ({seconds} s)")


def _worker(harness: DigestHarness, adzuna: AdzunaStandIn, **config: str) -> Worker:
    sender = DigestSender(
        harness.engine,
        DigestBuilder(harness.market, ttl_seconds=0),
        harness.token_for,
        api_url=harness.stub.api_url,
        config=harness.config,
    )
    feeds = FeedWork(
        harness.engine,
        config_for(adzuna.url, **config),
        tell=slack_teller(harness.token_for, harness.stub.api_url),
        sleep=_no_sleep,
    )
    return Worker(harness.engine, sender, poll_seconds=0.5, feeds=feeds)


async def _add_feed(engine: AsyncEngine, now: datetime) -> Feed:
    return await store.add_feed(
        engine,
        FeedKind.ADZUNA,
        {"what": "ai engineer", "country": "gb"},
        team_id=TEAM,
        schedule=FeedSchedule(),
        now=now,
        added_by="U0ADMIN",
    )


@pytest.fixture
async def sqlite_harness(sqlite_engine: AsyncEngine, stub: SlackStub) -> DigestHarness:
    """The digest harness on SQLite only: three weeks of runs is the slow part of this file,
    and the claims it makes are covered on PostgreSQL by the tests below."""
    made = DigestHarness(sqlite_engine, stub, MarketReader(sqlite_engine, recheck_seconds=0))
    made.add_team(TEAM)
    return made


async def test_three_weeks_of_a_daily_feed_and_a_weekly_digest(
    sqlite_harness: DigestHarness, adzuna: AdzunaStandIn
) -> None:
    harness = sqlite_harness
    with time_machine.travel(MONDAY, tick=False) as traveller:
        feed = await _add_feed(harness.engine, MONDAY)
        await harness.subscribe("C0DIGEST", schedule=WeeklySchedule(), now=MONDAY)
        clock, second_clock = (Clock(harness.engine, grace=timedelta(hours=12)) for _ in "ab")
        number = 0
        for day in range(21):
            midnight = MONDAY + timedelta(days=day)
            for k in range(ADS_A_DAY):  # posted overnight, before the 04:30 run
                created = midnight + timedelta(hours=1, minutes=k)
                adzuna.ads.append(adzuna_ad(number, created=created))
                number += 1
            for moment in (
                midnight + timedelta(hours=4, minutes=31),
                midnight + timedelta(hours=9, minutes=1),
            ):
                traveller.move_to(moment)
                await clock.tick()
                await second_clock.tick()  # a second clock (a deploy overlap) adds nothing
                worker = _worker(harness, adzuna)
                await worker.run(until_idle=True)
                await worker.sender.close()

    runs = await store.runs_of(harness.engine, feed.id or 0)
    assert [run.period_key for run in runs] == [
        (MONDAY + timedelta(days=day)).date().isoformat() for day in range(21)
    ]
    assert {run.status for run in runs} == {FeedRunStatus.DONE}
    assert [run.new_ads for run in runs] == [ADS_A_DAY] * 21
    assert len(adzuna.requests) == 21  # one page a day: each run stops at yesterday's ads

    digests = harness.digests_in("C0DIGEST")
    assert len(digests) == 3
    posts = [
        call.args
        for call in harness.stub.calls_to("chat.postMessage")
        if call.ok and call.args.get("channel") == "C0DIGEST" and "thread_ts" not in call.args
    ]
    # Monday 14 December: the last whole week against the one before, each of 7 days' ads,
    # with their sample sizes; the pay median leaves out the 17 predicted salaries of the 84.
    last = json.dumps(posts[-1]["blocks"], ensure_ascii=False)
    assert (
        "Compared: 2026-W49 → 2026-W50 · Source: job ads, week, 2026-W50 · "
        "n = 84 (was 84) · your team's data"
    ) in last
    assert re.search(r"Salary, UK: [^\\]*, n = 67", last)


async def test_a_refused_key_stops_the_feed_and_tells_the_admin_by_dm(
    harness: DigestHarness, adzuna: AdzunaStandIn
) -> None:
    adzuna.add_ads(0, 5)
    slot = MONDAY + timedelta(hours=4, minutes=30)
    with time_machine.travel(slot + timedelta(minutes=1), tick=False):
        feed = await _add_feed(harness.engine, MONDAY)
        await Clock(harness.engine, grace=timedelta(hours=12)).tick()
        worker = _worker(harness, adzuna, app_key="revoked")
        await worker.run(until_idle=True)
        await worker.sender.close()
    stopped = await store.get_feed(harness.engine, feed.id or 0)
    assert stopped is not None and stopped.status == FeedStatus.STOPPED
    [run] = await store.runs_of(harness.engine, feed.id or 0)
    assert run.status == FeedRunStatus.FAILED and run.error.startswith("Adzuna refused the key")
    [dm] = [c for c in harness.stub.calls_to("chat.postMessage") if c.args["channel"] == "U0ADMIN"]
    assert dm.args["text"].startswith('Your SkillGap job-ad feed Feed 1: Adzuna "ai engineer"')
    assert "is stopped: Adzuna refused the key (HTTP 401)" in dm.args["text"]
    assert "revoked" not in str(dm.args)


async def test_after_downtime_one_run_catches_up(harness: DigestHarness) -> None:
    feed = await _add_feed(harness.engine, MONDAY)
    clock = Clock(
        harness.engine, grace=timedelta(hours=12), now=lambda: MONDAY + timedelta(days=3, hours=6)
    )
    await clock.tick()
    async with session_factory(harness.engine)() as session:
        runs = (await session.exec(select(FeedRun).order_by(col(FeedRun.scheduled_for)))).all()
    assert [(run.period_key, run.status) for run in runs] == [
        ("2026-11-30", FeedRunStatus.SKIPPED_STALE),
        ("2026-12-01", FeedRunStatus.SKIPPED_STALE),
        ("2026-12-02", FeedRunStatus.SKIPPED_STALE),
        ("2026-12-03", FeedRunStatus.PENDING),
    ]
    moved = await store.get_feed(harness.engine, feed.id or 0)
    assert moved is not None and moved.next_run_at == MONDAY + timedelta(
        days=4, hours=4, minutes=30
    )


async def test_a_feed_runs_once_at_a_time_whether_by_hand_or_by_the_clock(
    harness: DigestHarness,
) -> None:
    feed = await _add_feed(harness.engine, MONDAY)
    slot = MONDAY + timedelta(hours=4, minutes=31)
    manual = await store.start_manual_run(harness.engine, feed, slot, "cli")
    await Clock(harness.engine, grace=timedelta(hours=12), now=lambda: slot).tick()
    # The slot's run waits while the run by hand holds its lease …
    assert await store.claim(harness.engine, "w1", slot, lease=store.LEASE, limit=5) == []
    with pytest.raises(store.FeedBusy, match=r"Feed 1 is being run now \(since 04:31 UTC\)"):
        await store.start_manual_run(harness.engine, feed, slot, "slack:U1")
    # … which it renews as it stores pages; once finished, the slot's run is claimed.
    later = slot + store.LEASE
    assert await store.renew_lease(harness.engine, manual.id or 0, "cli", later)
    assert await store.claim(harness.engine, "w1", later, lease=store.LEASE, limit=5) == []
    await store.finish_run(
        harness.engine,
        manual.id or 0,
        "cli",
        FeedRunStatus.DONE,
        now=later,
        new_ads=0,
        known_ads=0,
        requests=0,
    )
    [claimed] = await store.claim(harness.engine, "w1", later, lease=store.LEASE, limit=5)
    assert claimed.period_key == "2026-11-30"

"""The clock with frozen time: once a week at the local time across DST, catch-up, stale slots."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncEngine

from db.digest_models import DeliveryStatus
from digests import ledger
from digests.clock import Clock
from digests.schedule import WeeklySchedule
from tests.digests.conftest import DigestHarness

LONDON = ZoneInfo("Europe/London")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def run_clock_over(
    harness: DigestHarness, start: datetime, end: datetime, step: timedelta
) -> list[datetime]:
    """Tick (and deliver what is due) at every step; return when each digest was posted."""
    with time_machine.travel(start, tick=False) as traveller:
        moment = start
        while moment <= end:
            traveller.move_to(moment)
            result = await harness.tick(moment)
            if result.due:
                await harness.work()
            moment += step
    return [
        datetime.fromtimestamp(call.at, UTC)
        for call in harness.stub.calls_to("chat.postMessage")
        if call.ok and "thread_ts" not in call.args
    ]


async def test_posts_once_a_week_at_nine_local_across_the_spring_change(
    harness: DigestHarness,
) -> None:
    with time_machine.travel(utc(2026, 3, 15, 12), tick=False):
        await harness.subscribe("C0SPRING")
    posted = await run_clock_over(
        harness, utc(2026, 3, 15, 12), utc(2026, 4, 13, 0), timedelta(hours=1)
    )
    local = [moment.astimezone(LONDON) for moment in posted]
    assert [(m.date().isoformat(), m.hour, m.minute) for m in local] == [
        ("2026-03-16", 9, 0),
        ("2026-03-23", 9, 0),
        ("2026-03-30", 9, 0),  # first Monday of BST: 08:00 UTC
        ("2026-04-06", 9, 0),
    ]
    assert len(harness.digests_in("C0SPRING")) == 4


async def test_posts_once_a_week_at_nine_local_across_the_autumn_change(
    harness: DigestHarness,
) -> None:
    with time_machine.travel(utc(2026, 10, 11, 12), tick=False):
        await harness.subscribe("C0AUTUMN")
    posted = await run_clock_over(
        harness, utc(2026, 10, 11, 12), utc(2026, 11, 3, 0), timedelta(hours=1)
    )
    local = [moment.astimezone(LONDON) for moment in posted]
    assert [(m.date().isoformat(), m.hour) for m in local] == [
        ("2026-10-12", 9),
        ("2026-10-19", 9),
        ("2026-10-26", 9),  # first Monday of GMT: 09:00 UTC
        ("2026-11-02", 9),
    ]


async def test_a_slot_in_the_repeated_hour_is_delivered_once(harness: DigestHarness) -> None:
    schedule = WeeklySchedule("sun", 1, 30, "Europe/London")
    with time_machine.travel(utc(2026, 10, 20), tick=False):
        await harness.subscribe("C0REPEAT", schedule=schedule)
    posted = await run_clock_over(
        harness, utc(2026, 10, 20), utc(2026, 11, 2), timedelta(minutes=30)
    )
    # 25 October has 01:30 twice (00:30 and 01:30 UTC): one digest that week, one the next.
    assert posted == [utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]
    rows = await ledger.list_deliveries(harness.engine)
    assert sorted(row.period_key for row in rows) == ["2026-W43", "2026-W44"]


async def test_restart_after_three_missed_weeks_posts_once(harness: DigestHarness) -> None:
    with time_machine.travel(utc(2026, 3, 1), tick=False) as traveller:
        await harness.subscribe("C0DOWN")
        traveller.move_to(utc(2026, 3, 2, 9, 1))
        await harness.tick()
        await harness.work()
        # The clock is down for the slots of 9, 16 and 23 March; back at 11:00 on the 23rd.
        traveller.move_to(utc(2026, 3, 23, 11))
        result = await harness.tick()
        assert (result.due, result.stale) == (1, 2)
        await harness.work()
        # Further ticks (or a second clock) in the same week add nothing.
        again = await asyncio.gather(harness.tick(), harness.tick())
        assert all(r.due == 0 and r.stale == 0 for r in again)
        await harness.work()
    assert len(harness.digests_in("C0DOWN")) == 2
    rows = await ledger.list_deliveries(harness.engine)
    by_week = {row.period_key: row.status for row in rows}
    assert by_week == {
        "2026-W10": DeliveryStatus.SENT,
        "2026-W11": DeliveryStatus.SKIPPED_STALE,
        "2026-W12": DeliveryStatus.SKIPPED_STALE,
        "2026-W13": DeliveryStatus.SENT,
    }


async def test_a_restart_beyond_the_grace_window_sends_nothing_stale(
    harness: DigestHarness,
) -> None:
    with time_machine.travel(utc(2026, 3, 1), tick=False) as traveller:
        subscription = await harness.subscribe("C0LATE")
        traveller.move_to(utc(2026, 3, 17, 9))  # 24 h after the 16 March slot; grace 12 h
        result = await harness.tick()
        await harness.work()
    assert (result.due, result.stale) == (0, 3)
    assert harness.digests_in("C0LATE") == []
    refreshed = await ledger.get_subscription(harness.engine, subscription.id or 0)
    assert refreshed is not None and refreshed.next_run_at == utc(2026, 3, 23, 9)
    stale = await ledger.list_deliveries(harness.engine, status=DeliveryStatus.SKIPPED_STALE)
    assert len(stale) == 3 and all("grace" in row.error for row in stale)


async def test_a_tick_cut_short_by_shutdown_is_not_logged_as_an_error(
    sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    class ShutDownMidTick(Clock):
        async def tick(self) -> ledger.TickResult:
            raise asyncio.CancelledError

    with caplog.at_level(logging.INFO, logger="digests.clock"):
        await ShutDownMidTick(sqlite_engine, grace=timedelta(hours=12))._safe_tick()
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "interrupted by shutdown" in caplog.records[0].getMessage()

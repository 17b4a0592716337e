"""Feed schedules: daily or weekly at a local quiet hour, one slot per day or week across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.feeds.schedule import FeedSchedule, FeedScheduleError


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_daily_at_half_past_four_london_across_both_changes_of_clocks() -> None:
    daily = FeedSchedule()
    first = daily.first_slot_after(utc(3, 28, 12))
    slots = [first]
    while len(slots) < 3:
        slots.append(daily.next_slot(slots[-1]))
    # 29 March 2026: clocks go forward at 01:00 UTC, so 04:30 local is 03:30 UTC from then.
    assert slots == [utc(3, 29, 3, 30), utc(3, 30, 3, 30), utc(3, 31, 3, 30)]
    autumn = daily.first_slot_after(utc(10, 24, 12))
    assert [autumn, daily.next_slot(autumn)] == [utc(10, 25, 4, 30), utc(10, 26, 4, 30)]
    assert daily.period_key(autumn) == "2026-10-25"


def test_weekly_runs_on_its_day_and_is_keyed_by_iso_week() -> None:
    weekly = FeedSchedule(every="weekly", day_of_week="wed", hour=2, minute=0)
    slot = weekly.first_slot_after(utc(12, 2, 1))
    assert slot == utc(12, 2, 2) and weekly.period_key(slot) == "2026-W49"
    assert weekly.next_slot(slot) == utc(12, 9, 2)
    assert weekly.describe() == "weekly on Wed at 02:00 Europe/London"


def test_bad_schedules_say_what_is_wrong() -> None:
    with pytest.raises(FeedScheduleError, match="unknown schedule 'hourly'; use daily or weekly"):
        FeedSchedule(every="hourly")
    with pytest.raises(FeedScheduleError, match="unknown time zone 'Mars/Base'"):
        FeedSchedule(timezone="Mars/Base")

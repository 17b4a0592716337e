"""Weekly schedules: parsing, next slots across DST, period keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digests.schedule import ScheduleError, WeeklySchedule, parse_day, parse_time
from digests.subscriptions import parse_subscribe

LONDON = WeeklySchedule("mon", 9, 0, "Europe/London")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_monday_nine_london_is_nine_local_either_side_of_both_dst_changes() -> None:
    slot = LONDON.first_slot_after(utc(2026, 3, 16))
    seen = []
    for _ in range(4):
        seen.append(slot)
        slot = LONDON.next_slot(slot)
    # GMT until 29 March, BST after: the UTC hour moves, the local hour does not.
    assert seen == [
        utc(2026, 3, 16, 9),
        utc(2026, 3, 23, 9),
        utc(2026, 3, 30, 8),
        utc(2026, 4, 6, 8),
    ]
    slot = LONDON.first_slot_after(utc(2026, 10, 12))
    autumn = [slot, LONDON.next_slot(slot), LONDON.next_slot(LONDON.next_slot(slot))]
    assert autumn == [utc(2026, 10, 12, 8), utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)]


def test_a_slot_in_the_repeated_autumn_hour_fires_once_that_week() -> None:
    # 01:30 on 25 October 2026 happens twice in London (BST, then GMT).
    early_sunday = WeeklySchedule("sun", 1, 30, "Europe/London")
    first = early_sunday.first_slot_after(utc(2026, 10, 24))
    second = early_sunday.next_slot(first)
    assert first == utc(2026, 10, 25, 0, 30)
    assert second == utc(2026, 11, 1, 1, 30)
    assert early_sunday.period_key(first) != early_sunday.period_key(second)


def test_a_slot_in_the_missing_spring_hour_still_fires_that_week() -> None:
    # 01:30 on 29 March 2026 does not exist in London; the week is not skipped.
    early_sunday = WeeklySchedule("sun", 1, 30, "Europe/London")
    first = early_sunday.first_slot_after(utc(2026, 3, 23))
    assert early_sunday.period_key(first) == "2026-W13"
    assert early_sunday.next_slot(first) == utc(2026, 4, 5, 0, 30)


def test_no_week_is_skipped_when_clocks_go_forward_in_sydney() -> None:
    # APScheduler's CronTrigger jumped from 29 September to 13 October 2025 here.
    sydney = WeeklySchedule("mon", 0, 0, "Australia/Sydney")
    slot = sydney.first_slot_after(utc(2025, 9, 8))
    seen = [slot]
    for _ in range(3):
        slot = sydney.next_slot(slot)
        seen.append(slot)
    # AEST (+10) until Sunday 5 October, AEDT (+11) after: midnight local every Monday.
    assert seen == [
        utc(2025, 9, 14, 14),
        utc(2025, 9, 21, 14),
        utc(2025, 9, 28, 14),
        utc(2025, 10, 5, 13),
    ]


@given(
    st.sampled_from(["mon", "wed", "sun"]),
    st.integers(0, 23),
    st.sampled_from([0, 30, 59]),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)),
)
def test_consecutive_slots_are_in_consecutive_weeks(
    day: str, hour: int, minute: int, zone: str, start: datetime
) -> None:
    schedule = WeeklySchedule(day, hour, minute, zone)
    slot = schedule.first_slot_after(start.replace(tzinfo=UTC))
    for _ in range(3):
        following = schedule.next_slot(slot)
        gap_days = (following - slot).total_seconds() / 86400
        assert 6.9 < gap_days < 7.1
        assert schedule.period_key(following) != schedule.period_key(slot)
        slot = following


def test_parse_days_and_times() -> None:
    assert parse_day("Friday") == "fri"
    assert parse_day("thurs") == "thu"
    assert parse_day("Mondays") == "mon"
    assert parse_time("09:00") == (9, 0)
    assert parse_time("5:30pm") == (17, 30)
    assert parse_time("12am") == (0, 0)
    for bad in ("25:00", "9:75", "noon", "13pm"):
        with pytest.raises(ScheduleError):
            parse_time(bad)
    with pytest.raises(ScheduleError, match="unknown day"):
        parse_day("someday")


def test_parse_subscribe_defaults_and_full_form() -> None:
    plain = parse_subscribe("")
    assert plain.role_names == ()
    assert plain.schedule_over(None, "Europe/London") == WeeklySchedule(
        "mon", 9, 0, "Europe/London"
    )
    assert (plain.day, plain.clock, plain.timezone, plain.skip_quiet_weeks) == (None,) * 4
    full = parse_subscribe(
        "AI Engineer, ML Engineer on Friday at 14:30 america/new_york skip quiet weeks"
    )
    assert full.role_names == ("AI Engineer", "ML Engineer")
    assert full.schedule_over(None, "Europe/London") == WeeklySchedule(
        "fri", 14, 30, "America/New_York"
    )
    assert full.skip_quiet_weeks


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("on Funday", "unknown day"),
        ("at 25:61", "unknown time"),
        ("AI Engineer Mars/Olympus_Mons", "unknown time zone"),
        ("a, b, c, d, e, f", "at most 5 roles"),
    ],
)
def test_parse_subscribe_says_what_was_wrong(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_subscribe(text)


@given(st.text(max_size=200))
def test_parse_subscribe_never_crashes(text: str) -> None:
    try:
        parse_subscribe(text)
    except ScheduleError as problem:
        assert str(problem)

"""Weekly schedules: parsing what people type, the next slot in UTC, and each slot's period key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    **{day: day for day in DAYS},
}
DAY_TITLES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
DEFAULT_DAY = "mon"
DEFAULT_HOUR = 9
DEFAULT_MINUTE = 0
DEFAULT_TIMEZONE = "Europe/London"

_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def utc_now() -> datetime:
    """Now, timezone-aware (frozen in tests by time-machine)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored moment, timezone-aware: SQLite hands datetimes back without the UTC they were
    written in."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ScheduleError(ValueError):
    """What someone typed is not a schedule; the message says what was wrong."""


@dataclass(frozen=True)
class WeeklySchedule:
    """One slot a week, at a local time in an IANA time zone."""

    day_of_week: str = DEFAULT_DAY
    hour: int = DEFAULT_HOUR
    minute: int = DEFAULT_MINUTE
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if self.day_of_week not in DAYS:
            raise ScheduleError(f"unknown day {self.day_of_week!r}")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ScheduleError(f"{self.hour:02d}:{self.minute:02d} is not a time of day")
        zone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def describe(self) -> str:
        return (
            f"{DAY_TITLES[self.day_of_week]}s at {self.hour:02d}:{self.minute:02d} "
            + zone_label(self.timezone)
        )

    def period_key(self, slot: datetime) -> str:
        """The local ISO week a slot falls in: the unit "once a week" is counted in."""
        year, week, _ = slot.astimezone(self.zone).isocalendar()
        return f"{year}-W{week:02d}"

    def first_slot_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment`, in UTC."""
        return self._search(moment, previous_key=None)

    def next_slot(self, previous: datetime) -> datetime:
        """The slot after `previous`, in UTC, always in a later local week."""
        return _next_slot(self, previous.astimezone(UTC))

    def _search(self, after: datetime, previous_key: str | None) -> datetime:
        # Worked out with zoneinfo, day by day: APScheduler 3's CronTrigger can skip a whole
        # week when the search crosses a change of clocks (seen with Australia/Sydney).
        # A local time the spring change skips is read with the offset before the change,
        # so it fires that day, later by the gap; a time the autumn change repeats fires at
        # its first occurrence only (fold 0).
        after = after.astimezone(UTC)
        weekday = DAYS.index(self.day_of_week)
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(21):
            if day.weekday() == weekday:
                local = datetime(
                    day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.zone
                )
                candidate = local.astimezone(UTC)
                if candidate > after and (
                    previous_key is None or self.period_key(candidate) != previous_key
                ):
                    return candidate
            day += timedelta(days=1)
        raise ScheduleError(f"no next slot for {self.describe()}")


@lru_cache(maxsize=4096)
def _next_slot(schedule: WeeklySchedule, previous: datetime) -> datetime:
    # Thousands of subscriptions share a few schedules and slots: compute each once.
    return schedule._search(previous, previous_key=schedule.period_key(previous))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as problem:
        raise ScheduleError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London"
        ) from problem


def zone_label(name: str) -> str:
    """A zone as people read it: "Etc/GMT-1" (POSIX signs, inverted) is shown as "UTC+1"."""
    if name.startswith("Etc/GMT") and len(name) > len("Etc/GMT"):
        offset = name.removeprefix("Etc/GMT")
        return f"UTC{'+' if offset.startswith('-') else '-'}{offset[1:]}"
    return name


_ZONE_LOOKUP: dict[str, str] = {}


def find_timezone(text: str) -> str | None:
    """The IANA zone name `text` names, ignoring case ("europe/london", "UTC"), or None."""
    if not _ZONE_LOOKUP:
        _ZONE_LOOKUP.update({name.lower(): name for name in available_timezones()})
    return _ZONE_LOOKUP.get(text.strip().lower())


def parse_day(text: str) -> str:
    """`Monday`, `mon`, `Mondays` as the cron day name `mon`."""
    key = text.strip().lower()
    day = DAY_NAMES.get(key) or (DAY_NAMES.get(key[:-1]) if key.endswith("s") else None)
    if day is None:
        raise ScheduleError(f"unknown day {text!r}; use a weekday such as Monday or mon")
    return day


def parse_time(text: str) -> tuple[int, int]:
    """`09:00`, `9`, `9am`, `5:30pm` as (hour, minute) on a 24-hour clock."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ScheduleError(f"unknown time {text!r}; use HH:MM on a 24-hour clock, e.g. 09:00")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"unknown time {text!r}; with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(f"unknown time {text!r}; use HH:MM on a 24-hour clock, e.g. 09:00")
    return hour, minute

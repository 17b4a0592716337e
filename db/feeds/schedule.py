"""When a feed runs: daily or weekly at a local time, next slots worked out with zoneinfo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY = ("daily", "weekly")
# A quiet hour: job boards are least busy, and the runs are done before people look.
DEFAULT_HOUR = 4
DEFAULT_MINUTE = 30
DEFAULT_TIMEZONE = "Europe/London"


class FeedScheduleError(ValueError):
    """Not a schedule; the message says what was wrong."""


@dataclass(frozen=True)
class FeedSchedule:
    every: str = "daily"
    day_of_week: str = "mon"  # weekly feeds only
    hour: int = DEFAULT_HOUR
    minute: int = DEFAULT_MINUTE
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if self.every not in EVERY:
            raise FeedScheduleError(f"unknown schedule {self.every!r}; use daily or weekly")
        if self.day_of_week not in DAYS:
            raise FeedScheduleError(f"unknown day {self.day_of_week!r}; use mon … sun")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise FeedScheduleError(f"{self.hour:02d}:{self.minute:02d} is not a time of day")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise FeedScheduleError(f"unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        when = f"{self.hour:02d}:{self.minute:02d} {self.timezone}"
        if self.every == "daily":
            return f"daily at {when}"
        return f"weekly on {self.day_of_week.title()} at {when}"

    def period_key(self, slot: datetime) -> str:
        """The local day (daily) or ISO week (weekly) of a slot: "once per slot" is per key."""
        local = slot.astimezone(self.zone)
        if self.every == "daily":
            return local.date().isoformat()
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"

    def first_slot_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment`, in UTC."""
        return self._search(moment, previous_key=None)

    def next_slot(self, previous: datetime) -> datetime:
        """The slot after the slot `previous`, always in a later period (a local time the
        autumn change repeats fires once)."""
        return self._search(previous, previous_key=self.period_key(previous))

    def _search(self, after: datetime, previous_key: str | None) -> datetime:
        after = after.astimezone(UTC)
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(16):
            if self.every == "daily" or day.weekday() == DAYS.index(self.day_of_week):
                local = datetime(
                    day.year, day.month, day.day, self.hour, self.minute, tzinfo=self.zone
                )
                candidate = local.astimezone(UTC)
                if candidate > after and self.period_key(candidate) != previous_key:
                    return candidate
            day += timedelta(days=1)
        raise FeedScheduleError(f"no next slot for {self.describe()}")

"""Time zones as people write them: IANA names, UTC offsets, abbreviations and big cities.

Everything is read into an IANA zone name, because schedules are worked out with zoneinfo.
An abbreviation that names more than one zone (IST: India, Ireland or Israel) is asked
back, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from digests.schedule import ScheduleError

# Summer and winter names of one place's clock denote that place's zone: "08:00 BST" in
# December is 08:00 London time, which is what the person wants each week.
ABBREVIATIONS: dict[str, str] = {
    "utc": "UTC",
    "zulu": "UTC",
    "gmt": "GMT",
    "bst": "Europe/London",
    "uk": "Europe/London",
    "uk time": "Europe/London",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "eet": "Europe/Athens",
    "eest": "Europe/Athens",
    "wet": "Europe/Lisbon",
    "west": "Europe/Lisbon",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "ct": "America/Chicago",
    "cdt": "America/Chicago",
    "mt": "America/Denver",
    "mdt": "America/Denver",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "jst": "Asia/Tokyo",
    "sgt": "Asia/Singapore",
}
# Abbreviations several places use: the person picks.
AMBIGUOUS_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ist": ("Asia/Kolkata (India)", "Europe/Dublin (Ireland)", "Asia/Jerusalem (Israel)"),
    "cst": ("America/Chicago (US Central)", "Asia/Shanghai (China)"),
    "ast": ("America/Halifax (Atlantic)", "Asia/Riyadh (Arabia)"),
    "bt": ("Asia/Thimphu (Bhutan)", "Asia/Baghdad (Baghdad)"),
}
# Cities people name whose zone is not called after them (most are: "Berlin", "New York").
CITIES: dict[str, str] = {
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "pune": "Asia/Kolkata",
    "edinburgh": "Europe/London",
    "manchester": "Europe/London",
    "birmingham": "Europe/London",
    "glasgow": "Europe/London",
    "leeds": "Europe/London",
    "bristol": "Europe/London",
    "cambridge": "Europe/London",
    "oxford": "Europe/London",
    "cardiff": "Europe/London",
    "belfast": "Europe/London",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "geneva": "Europe/Zurich",
    "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "boston": "America/New_York",
    "nyc": "America/New_York",
    "washington": "America/New_York",
    "austin": "America/Chicago",
    "beijing": "Asia/Shanghai",
    "tel aviv": "Asia/Jerusalem",
    "dubai": "Asia/Dubai",
}
MAX_ZONE_WORDS = 3
# Old aliases whose last part is not a place ("Canada/Central"), and tzdata's variant trees.
_NOT_PLACES = (
    "Etc/",
    "SystemV/",
    "US/",
    "Canada/",
    "Mexico/",
    "Brazil/",
    "Chile/",
    "posix",
    "right",
)
_OFFSET = re.compile(
    r"^(?:utc|gmt)?\s*(?P<sign>[+-−])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$", re.IGNORECASE
)


@dataclass(frozen=True)
class ZoneReading:
    """The IANA zone some words name, and how many words it took."""

    zone: str
    words: int
    typed: str


@lru_cache(maxsize=1)
def _iana() -> dict[str, str]:
    """Every IANA name by its lower-case spelling, and by its place ("new york", "berlin")."""
    names = sorted(available_timezones())
    table = {name.lower(): name for name in names}
    for name in names:
        if "/" in name and not name.startswith(_NOT_PLACES):
            place = name.rsplit("/", 1)[1].replace("_", " ").lower()
            # The first region wins: "America/…" is not shadowed by a same-named "Antarctica/…".
            table.setdefault(place, name)
    return table


def read_timezone(words: list[str]) -> ZoneReading | None:
    """The zone named by the longest run of words at the start of `words`, or None.

    Raises ScheduleError for a zone written in a way that could mean several, or an offset
    no whole-hour zone has.
    """
    for count in range(min(MAX_ZONE_WORDS, len(words)), 0, -1):
        typed = " ".join(words[:count])
        zone = zone_named(typed)
        if zone is not None:
            return ZoneReading(zone, count, typed)
    return None


def zone_named(text: str) -> str | None:
    """The IANA zone `text` names ("BST", "UTC+1", "+01:00", "London", "europe/london")."""
    key = " ".join(text.strip().lower().split())
    if not key:
        return None
    if key in AMBIGUOUS_ABBREVIATIONS:
        choices = " or ".join(AMBIGUOUS_ABBREVIATIONS[key])
        raise ScheduleError(f"{text.strip()} could mean {choices}; name the zone you mean")
    offset = _OFFSET.match(key.replace(" ", ""))
    if offset is not None:
        return _offset_zone(offset, text)
    return (
        ABBREVIATIONS.get(key)
        or CITIES.get(key)
        or _iana().get(key.replace("_", " "))
        or (_iana().get(key))
    )


def _offset_zone(offset: re.Match[str], text: str) -> str:
    hours, minutes = int(offset.group("hours")), int(offset.group("minutes") or 0)
    sign = -1 if offset.group("sign") in "-−" else 1
    if minutes or hours > 14 or (sign < 0 and hours > 12):
        raise ScheduleError(
            f"{text.strip()} is not an offset I can keep; name a city instead, e.g. Asia/Kolkata"
        )
    if hours == 0:
        return "UTC"
    # POSIX-style Etc names count the other way: UTC+1 is Etc/GMT-1.
    return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"

"""Which source answers each figure: series, soundness, precedence and freshness (one rule).

Snapshots come from published reports and from a team's own job ads. A *series* is one kind
of source, one window length and one owner (public or a team): only snapshots of one series
are ever compared. Each figure on a card comes from the freshest series whose own sample for
that figure is big enough (the thresholds ingestion uses); a thin newer figure never hides a
sound older one. docs/sources.md explains the rule for people.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from db.constants import (
    MIN_BASE_ADS,
    MIN_CANDIDATES,
    MIN_FIGURES_FOR_MEDIAN,
    PUBLIC_TEAM,
    SourceKind,
)

# A pay median needs as many figures as ingestion asks for before it computes one.
MIN_PAY_FIGURES = MIN_FIGURES_FOR_MEDIAN
# Shares of ads (demand, essential, emerging) need the base ingestion asks of a window it
# compares with: 12 ads can name skills but cannot say that 67% of employers want one.
MIN_SHARE_ADS = MIN_BASE_ADS
# Supply (and so gaps) needs as many candidate profiles as ingestion asks for.
MIN_SUPPLY_CANDIDATES = MIN_CANDIDATES
# Two sound figures differ "materially" from these distances on: then both are shown.
MATERIAL_PAY_FRACTION = 0.05
MATERIAL_SHARE_POINTS = 5.0
# Figures whose period ended longer ago than this say how old they are.
STALE_AFTER_DAYS = 42

PUBLISHED = "published report"
OWN_ADS = "job ads"


def today() -> date:
    """Today in UTC (frozen in tests by time-machine)."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class SeriesKey:
    """One source kind, one window length and one owner, for one role and region."""

    owner: str  # PUBLIC_TEAM or a team's Slack id
    kind: str  # PUBLISHED or OWN_ADS
    window: str  # "month", "week", "4 weeks", "92 days"
    source: str  # the source's own name, e.g. "UK market report"
    role_slug: str
    region: str


def source_family(kind: SourceKind) -> str:
    """Reports imported as text and as YAML are one family; computed figures another."""
    return OWN_ADS if kind is SourceKind.JOB_ADS else PUBLISHED


def window_of(kind: SourceKind, period_start: date, period_end: date) -> str:
    """The window length a snapshot covers: "month", "week", "4 weeks" or "N days"."""
    days = (period_end - period_start).days + 1
    if kind is SourceKind.JOB_ADS and days % 7 == 0:
        weeks = days // 7
        return "week" if weeks == 1 else f"{weeks} weeks"
    last_day = calendar.monthrange(period_start.year, period_start.month)[1]
    if (
        period_start.day == 1
        and period_end.year == period_start.year
        and period_end.month == period_start.month
        and period_end.day == last_day
    ):
        return "month"
    return f"{days} days"


def series_key(
    *,
    team_id: str,
    kind: SourceKind,
    source: str,
    period_start: date,
    period_end: date,
    role_slug: str,
    region: str,
) -> SeriesKey:
    return SeriesKey(
        team_id,
        source_family(kind),
        window_of(kind, period_start, period_end),
        source,
        role_slug,
        region,
    )


# Soundness: is this source's own sample big enough for this figure? -------------------


def pay_is_sound(median: float | None, sample_size: int | None) -> bool:
    """A median exists and, when the source counted its figures, there were enough.

    A report states its median without a count: it is taken as the source states it.
    """
    if median is None:
        return False
    return sample_size is None or sample_size >= MIN_PAY_FIGURES


def shares_are_sound(ads: int | None) -> bool:
    """Demand shares from a report (no count) or from enough ads."""
    return ads is None or ads >= MIN_SHARE_ADS


def supply_is_sound(ads: int | None, candidates: int | None, has_supply: bool) -> bool:
    """Gaps need sound demand and supply from enough candidate profiles."""
    if not has_supply or not shares_are_sound(ads):
        return False
    return candidates is None or candidates >= MIN_SUPPLY_CANDIDATES


def pay_differs(one: float, other: float) -> bool:
    return abs(one - other) >= MATERIAL_PAY_FRACTION * max(abs(one), abs(other))


def shares_differ(one: float, other: float) -> bool:
    return abs(one - other) >= MATERIAL_SHARE_POINTS


# Precedence ------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Offer(Generic[T]):
    """One series' answer for one figure: the figure, whether it is sound, and its period."""

    figure: T
    sound: bool
    owner: str
    period_start: date
    period_end: date
    snapshot_id: int


@dataclass(frozen=True)
class Choice(Generic[T]):
    """The figure a card shows, and a sound one from the other kind of owner beside it."""

    chosen: Offer[T] | None
    beside: Offer[T] | None = None


def _freshest_first(offer: Offer[T]) -> tuple[int, bool, int, int]:
    # Newest period first; between equals, the team's own data, then the wider window.
    return (
        -offer.period_end.toordinal(),
        offer.owner == PUBLIC_TEAM,
        offer.period_start.toordinal(),
        -offer.snapshot_id,
    )


def choose(offers: Sequence[Offer[T]]) -> Choice[T]:
    """The freshest sound offer; a thin figure never replaces a sound one, however new.

    With no sound offer at all the freshest offer is chosen (it will say "not enough data"
    where its figure is missing). The freshest sound offer of the other kind of owner (a
    team's own data against a report) is kept beside it, for the caller to show when the two
    differ materially.
    """
    if not offers:
        return Choice(None)
    ordered = sorted(offers, key=_freshest_first)
    sound = [offer for offer in ordered if offer.sound]
    if not sound:
        return Choice(ordered[0])
    chosen = sound[0]
    chosen_is_team = chosen.owner != PUBLIC_TEAM
    beside = next((o for o in sound if (o.owner != PUBLIC_TEAM) != chosen_is_team), None)
    return Choice(chosen, beside)


# Freshness ---------------------------------------------------------------------------------


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from one date to another (never negative)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return max(months, 0)


def age_note(period_end: date, on: date | None = None) -> str:
    """ "7 months old" when figures ended more than six weeks before `on` (today), else ""."""
    on = on or today()
    days = (on - period_end).days
    if days <= STALE_AFTER_DAYS:
        return ""
    months = months_between(period_end, on)
    if months >= 2:
        return f"{months} months old"
    weeks = days // 7
    return f"{weeks} weeks old"

"""What goes into a digest: per role, what changed between the two newest snapshots.

Plain typed objects built from the read model; the templates only lay them out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from db.constants import PUBLIC_TEAM, Region
from db.market import MarketReader
from db.market_comparison import Change, PayChange, SkillChange, SnapshotComparison
from db.market_figures import PAY_UNITS, RoleStats, SkillStat, SnapshotInfo
from db.models import PayKind
from db.sources import PUBLISHED

# A skill "emerges" by demand only from a base big enough for the rise to mean something,
# and only when it rose by enough points; below that it is noise, not news.
EMERGING_MIN_BASE_PCT = 5.0
EMERGING_MIN_RISE_PTS = 3.0
TOP_GAPS = 5
PAY_LABELS = {PayKind.ANNUAL: "Salary", PayKind.DAILY: "Day rate", PayKind.HOURLY: "Hourly rate"}


@dataclass(frozen=True)
class EmergingSkill:
    name: str
    is_new: bool  # no earlier figure at all: "new", never "+∞%"
    demand: Change
    flagged_by_source: bool  # the source itself lists it as emerging

    @property
    def rise_pts(self) -> float | None:
        return self.demand.delta


@dataclass(frozen=True)
class PayLine:
    label: str  # "Salary", "Day rate"
    region: str
    unit: str
    median: Change
    old_sample_size: int | None
    new_sample_size: int | None


@dataclass(frozen=True)
class GapLine:
    name: str
    demand_pct: float | None
    supply_pct: float | None
    gap_pts: float | None
    moved_pts: float | None  # change since the earlier snapshot; None when it had no figure
    is_new: bool
    # The gaps' own period when they come from another series than the digest's comparison
    # (a report's gaps beside a team's ads): no move is claimed across series.
    as_of: str = ""


@dataclass(frozen=True)
class PayPoint:
    period_label: str
    period_end: date
    median: float


@dataclass(frozen=True)
class PayNow:
    """A pay figure as it stands, for a digest with nothing to compare yet."""

    label: str  # "Salary", "Day rate"
    region: str
    unit: str
    median: float
    sample_size: int | None
    period: str  # "April 2026 — 7 months old"
    qualifier: str = ""  # the source's own "around", when its figure is not a median


@dataclass(frozen=True)
class RoleDigest:
    """One subscribed role's part of a digest."""

    role_slug: str
    role_title: str
    latest: RoleStats | None  # None: no data for this role visible to the team
    comparison: SnapshotComparison | None  # None: no earlier snapshot to compare with
    emerging: tuple[EmergingSkill, ...] = ()
    pay: tuple[PayLine, ...] = ()
    gaps: tuple[GapLine, ...] = ()
    removed_skills: tuple[str, ...] = ()
    salary_history: tuple[PayPoint, ...] = ()
    # What stands now, shown while there is nothing to compare: pay, and the skills the
    # source itself lists as emerging.
    pay_now: tuple[PayNow, ...] = ()
    emerging_now: tuple[SkillStat, ...] = ()
    # Set when the pay changes come from another series than the rest: its source and periods.
    pay_compared: str = ""

    @property
    def emerging_period(self) -> str:
        return "" if self.latest is None else self.latest.emerging_source.period_and_age

    @property
    def gaps_period(self) -> str:
        return "" if self.latest is None else self.latest.gaps_source.period_and_age

    @property
    def data_periods(self) -> tuple[str, ...]:
        """The periods this role's figures cover, with their age when old."""
        if self.latest is None:
            return ()
        return tuple(dict.fromkeys(info.period_and_age for info in self.latest.sources))

    @property
    def newer(self) -> SnapshotInfo | None:
        if self.comparison is not None:
            return self.comparison.newer
        return None if self.latest is None else self.latest.snapshot

    @property
    def older(self) -> SnapshotInfo | None:
        return None if self.comparison is None else self.comparison.older

    @cached_property
    def has_changes(self) -> bool:
        # Asked for every delivery of a part shared by thousands: worked out once.
        return self.comparison is not None and self.comparison.has_changes

    def is_news_since(self, since: datetime | None) -> bool:
        """Changed, and the newer snapshot arrived after the previous digest went out."""
        if not self.has_changes or self.newer is None:
            return False
        return since is None or self.newer.imported_at > since


@dataclass(frozen=True)
class Digest:
    team_id: str
    roles: tuple[RoleDigest, ...]
    # When the previous digest went out; changes older than it were reported then.
    since: datetime | None = None
    as_of: date | None = None
    unknown_roles: tuple[str, ...] = field(default=())

    @property
    def news(self) -> tuple[RoleDigest, ...]:
        return tuple(role for role in self.roles if role.is_news_since(self.since))

    @property
    def is_quiet(self) -> bool:
        """Nothing to report: no role changed since the previous digest (first digests included
        only when there is something to compare or something to say about missing data)."""
        if self.since is None:
            return False
        return not self.news

    @property
    def data_periods(self) -> tuple[str, ...]:
        """Every period the digest's figures cover: its header names them, not only the week."""
        return tuple(dict.fromkeys(p for role in self.roles for p in role.data_periods))

    def chartable(self) -> list[RoleDigest]:
        return [
            role for role in self.roles if role.latest is not None and role.latest.skills_by_gap()
        ]


def emerging_skills(comparison: SnapshotComparison) -> list[EmergingSkill]:
    """New skills, skills the source newly calls emerging, and skills whose demand rose enough.

    A published report is taken at its word: only what it calls emerging is. Nor is a gap
    skill ever "emerging" unless its source says so: a gap is scarcity, not a trend.
    """
    published = comparison.newer.series.kind == PUBLISHED
    found: list[EmergingSkill] = []
    for change in comparison.skill_changes:
        if change.new is None:
            continue
        # A gap skill shows under gaps; it emerges only if the source says so.
        if (published or change.new.is_gap) and not change.new.is_emerging:
            continue
        is_new = change.old is None
        rose = (
            change.demand.old is not None
            and change.demand.old >= EMERGING_MIN_BASE_PCT
            and (change.demand.delta or 0) >= EMERGING_MIN_RISE_PTS
        )
        if is_new or rose or change.newly_emerging:
            found.append(EmergingSkill(change.name, is_new, change.demand, change.newly_emerging))
    # New ones first, then by how far demand rose, then by name for a stable order.
    return sorted(found, key=lambda s: (not s.is_new, -(s.rise_pts or 0), s.name))


def pay_lines(changes: tuple[PayChange, ...]) -> list[PayLine]:
    """Median pay changes by kind and region; kinds are never mixed or converted."""
    return [
        PayLine(
            PAY_LABELS[change.kind],
            change.region,
            PAY_UNITS[change.kind],
            change.median,
            change.old_sample_size,
            change.new_sample_size,
        )
        for change in changes
        if change.median.old is not None or change.median.new is not None
    ]


def pay_now(latest: RoleStats) -> list[PayNow]:
    """Every pay figure the role has now, each with the period of its own source."""
    return [
        PayNow(
            PAY_LABELS[pay.kind],
            pay.region,
            pay.unit,
            pay.median,
            pay.sample_size,
            (pay.origin or latest.snapshot).period_and_age,
            pay.qualifier,
        )
        for pay in latest.pay
        if pay.median is not None
    ]


def gap_lines(latest: RoleStats, comparison: SnapshotComparison | None) -> list[GapLine]:
    source = latest.gaps_source
    same_series = comparison is not None and comparison.newer.id == source.id
    by_slug: dict[str, SkillChange] = (
        {c.slug: c for c in comparison.skill_changes}
        if comparison is not None and same_series
        else {}
    )
    as_of = "" if same_series or comparison is None else source.provenance_dated
    lines = []
    for skill in latest.top_gaps(TOP_GAPS):
        change = by_slug.get(skill.slug)
        moved = None if change is None else change.gap.delta
        is_new = change is not None and (change.old is None or change.old.gap_points is None)
        lines.append(
            GapLine(
                skill.name,
                skill.demand_pct,
                skill.supply_pct,
                skill.gap_points,
                moved,
                is_new,
                as_of,
            )
        )
    return lines


class DigestBuilder:
    """Builds digests from the read model, keeping each role's part while the data is unchanged.

    Thousands of subscriptions share a handful of roles: a role's part is built once per
    distinct view of the role's data and reused for every channel that sees it until the
    store's market data changes, or `ttl_seconds` pass (its figures' ages are told in months,
    so an hour changes nothing). A workspace with snapshots of its own for the role has a view
    of its own; every other workspace sees the public data only, so they share the public
    part. A tick's deliveries, however long the rate limits make them, therefore build each
    distinct part once.
    """

    def __init__(self, market: MarketReader, *, ttl_seconds: float = 3600.0) -> None:
        self.market = market
        self.ttl_seconds = ttl_seconds
        self._parts: dict[
            tuple[str, str, date | None], tuple[float, tuple[Any, ...] | None, RoleDigest]
        ] = {}
        self._building: dict[tuple[str, str, date | None], asyncio.Future[RoleDigest]] = {}
        # (team, role) -> whose data the team sees for the role: its own team id, or public.
        self._views: dict[tuple[str, str], tuple[float, tuple[Any, ...] | None, str]] = {}

    def forget(self) -> None:
        self._parts.clear()
        self._views.clear()

    async def build(
        self,
        team_id: str,
        role_slugs: list[str],
        *,
        since: datetime | None = None,
        as_of: date | None = None,
    ) -> Digest:
        roles = []
        for slug in role_slugs:
            roles.append(await self.role_digest(team_id, slug, as_of=as_of))
        return Digest(team_id, tuple(roles), since=since, as_of=as_of)

    async def role_digest(
        self, team_id: str, slug: str, *, as_of: date | None = None
    ) -> RoleDigest:
        now = time.monotonic()
        version = await self.market.data_version()
        seen_as = await self._view_of(team_id, slug, now, version)
        key = (seen_as, slug, as_of)
        cached = self._parts.get(key)
        if cached is not None and now - cached[0] < self.ttl_seconds and cached[1] == version:
            return cached[2]
        # A tick starts hundreds of deliveries at once: those asking for a part being built
        # wait for that build instead of each starting their own.
        building = self._building.get(key)
        if building is None:
            building = asyncio.ensure_future(self._build_role(seen_as, slug, as_of))
            self._building[key] = building

            def keep(done: asyncio.Future[RoleDigest]) -> None:
                self._building.pop(key, None)
                if not done.cancelled() and done.exception() is None:
                    self._parts[key] = (now, version, done.result())

            building.add_done_callback(keep)
        return await asyncio.shield(building)

    async def _view_of(
        self, team_id: str, slug: str, now: float, version: tuple[Any, ...] | None
    ) -> str:
        """The team itself when it has snapshots of its own for the role, else the public view.

        Everything a role's part shows comes from the role's snapshots the team may see (the
        public ones and its own), so without any of its own it sees exactly the public data.
        """
        if team_id == PUBLIC_TEAM:
            return PUBLIC_TEAM
        cached = self._views.get((team_id, slug))
        if cached is not None and now - cached[0] < self.ttl_seconds and cached[1] == version:
            return cached[2]
        snapshots = await self.market.snapshots(slug, team_id)
        seen_as = team_id if any(info.team_id == team_id for info in snapshots) else PUBLIC_TEAM
        self._views[(team_id, slug)] = (now, version, seen_as)
        return seen_as

    async def _build_role(self, team_id: str, slug: str, as_of: date | None) -> RoleDigest:
        latest = await self.market.role_stats(slug, team_id, region=Region.UK, as_of=as_of)
        if latest is None:
            path = await self.market.role_path(slug)
            title = path.role_title if path is not None else slug
            return RoleDigest(slug, title, None, None)
        comparison = await self.market.compare(
            slug, team_id, region=Region.UK, newer_id=latest.snapshot.id
        )
        # Pay may come from another series than the skills (db/sources.py): its changes and
        # history are then those of its own series, never a mix. Within the same series the
        # digest's pair of periods holds for pay too.
        pay_from = latest.pay_source(Region.UK)
        same_series = pay_from.series == latest.snapshot.series
        pay_comparison = (
            comparison
            if same_series
            else await self.market.compare(slug, team_id, region=Region.UK, newer_id=pay_from.id)
        )
        history = await self._salary_history(team_id, slug, pay_from)
        if comparison is None:
            return RoleDigest(
                slug,
                latest.role.title,
                latest,
                None,
                gaps=tuple(gap_lines(latest, None)),
                salary_history=history,
                pay_now=tuple(pay_now(latest)),
                emerging_now=tuple(latest.emerging_skills()),
            )
        return RoleDigest(
            slug,
            latest.role.title,
            latest,
            comparison,
            emerging=tuple(emerging_skills(comparison)),
            pay=() if pay_comparison is None else tuple(pay_lines(pay_comparison.pay_changes)),
            pay_compared=(
                ""
                if pay_comparison is None or pay_comparison is comparison
                else f"{pay_comparison.newer.source}, {pay_comparison.older.period_label} → "
                f"{pay_comparison.newer.period_label}"
            ),
            gaps=tuple(gap_lines(latest, comparison)),
            removed_skills=tuple(c.name for c in comparison.skills_removed),
            salary_history=history,
        )

    async def _salary_history(
        self, team_id: str, slug: str, of: SnapshotInfo
    ) -> tuple[PayPoint, ...]:
        """The UK median salary in each snapshot of `of`'s series, oldest first."""
        points = []
        for info in await self.market.snapshots(slug, team_id):
            if info.series != of.series:
                continue
            stats = await self.market.stats_for_snapshot(info.id, team_id)
            salary = None if stats is None else stats.salary
            if salary is not None and salary.median is not None:
                points.append(PayPoint(info.period_label, info.period_end, salary.median))
        return tuple(sorted(points, key=lambda point: point.period_end))

"""The read model's value types: roles, snapshots and their figures, as plain typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db.constants import PUBLIC_TEAM, PayKind, Region, SourceKind
from db.sources import OWN_ADS, SeriesKey, age_note, series_key

# How each kind of pay is written after an amount: £75,000, £650/day, £90/hour.
PAY_UNITS = {PayKind.ANNUAL: "", PayKind.DAILY: "/day", PayKind.HOURLY: "/hour"}


@dataclass(frozen=True)
class RoleSummary:
    slug: str
    title: str
    summary: str
    typical_tenure_months: int | None
    latest: SnapshotInfo | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    role_slug: str
    role_title: str
    region: str
    published_on: date
    period_label: str
    period_start: date
    period_end: date
    source: str
    source_kind: SourceKind
    imported_at: datetime
    team_id: str
    sample_size: int | None
    supply_sample_size: int | None

    @property
    def provenance(self) -> str:
        """Where the figures come from and how fresh they are: "UK market report, April 2026"."""
        return f"{self.source}, {self.period_label}"

    @property
    def provenance_dated(self) -> str:
        """`provenance` with the figures' age once old: "…, April 2026 — 7 months old"."""
        return f"{self.source}, {self.period_and_age}"

    @property
    def freshness(self) -> str:
        """How fresh computed figures are; empty for reports, whose month is in `provenance`."""
        if self.source_kind is SourceKind.JOB_ADS:
            return f"ads up to {self.period_end.day} {self.period_end:%b %Y}"
        # A report states only its month ("Updated April 2026"), so no day is claimed.
        return ""

    @property
    def is_team_data(self) -> bool:
        return self.team_id != PUBLIC_TEAM

    @property
    def wording_credit(self) -> str:
        """Whose words a note or entry route is: ours (a restated report), the report's own,
        or a count computed from ads."""
        if self.source_kind is SourceKind.CURATED:
            return f"SkillGap's wording, from the {self.source}, {self.period_label}"
        if self.source_kind is SourceKind.REPORT:
            return f"{self.source}, {self.period_label}"
        return f"computed from {self.source}, {self.period_label}"

    @property
    def series(self) -> SeriesKey:
        """The series this snapshot belongs to: only snapshots of one series are compared."""
        return series_key(
            team_id=self.team_id,
            kind=self.source_kind,
            source=self.source,
            period_start=self.period_start,
            period_end=self.period_end,
            role_slug=self.role_slug,
            region=self.region,
        )

    @property
    def age(self) -> str:
        """ "7 months old" once the figures' period ended more than six weeks ago, else ""."""
        return age_note(self.period_end)

    @property
    def period_and_age(self) -> str:
        """ "April 2026 — 7 months old", or just the period while it is recent."""
        age = self.age
        return f"{self.period_label} — {age}" if age else self.period_label

    @property
    def label(self) -> str:
        """Short attribution: "Report, Apr 2026" or "Your ads, 4 weeks to 29 Nov"."""
        if self.series.kind == OWN_ADS:
            owner = "Your ads" if self.is_team_data else "Job ads"
            window = self.series.window
            ending = f"{self.period_end.day} {self.period_end:%b}"
            period = f"week to {ending}" if window == "week" else f"{window} to {ending}"
            return f"{owner}, {period}"
        if self.series.window == "month":
            return f"Report, {self.period_start:%b %Y}"
        return f"Report, {self.period_label}"


@dataclass(frozen=True)
class Pay:
    kind: PayKind
    region: str
    median: float | None
    low: float | None
    high: float | None
    p10: float | None = None
    p25: float | None = None
    p75: float | None = None
    p90: float | None = None
    sample_size: int | None = None
    # The snapshot this figure comes from, when a card mixes figures of several sources.
    origin: SnapshotInfo | None = None
    # The source's own word when the figure is not a plain median: "around" £750/day.
    qualifier: str = ""

    @property
    def unit(self) -> str:
        return PAY_UNITS[self.kind]

    @property
    def attribution(self) -> str:
        """ "Your ads, 4 weeks to 29 Nov, n=312" — where this one figure comes from."""
        if self.origin is None:
            return ""
        count = f", n={self.sample_size}" if self.sample_size else ""
        return f"{self.origin.label}{count}"


@dataclass(frozen=True)
class SkillStat:
    name: str
    slug: str
    demand_pct: float | None
    supply_pct: float | None
    is_essential: bool = False
    is_emerging: bool = False
    is_gap: bool = False
    rank: int | None = None
    sample_size: int | None = None
    note: str = ""
    demand_low_pct: float | None = None
    demand_high_pct: float | None = None

    @property
    def gap_points(self) -> float | None:
        """Employer demand minus candidate supply, in percentage points."""
        if self.demand_pct is None or self.supply_pct is None:
            return None
        return round(self.demand_pct - self.supply_pct, 1)


@dataclass(frozen=True)
class RoleStats:
    """One role's figures: pay, skills and where they come from.

    From one snapshot (`stats_for_snapshot`), or per figure from the freshest sound source
    (`role_stats`, see db/sources.py): then `snapshot` is where the skills come from, gaps
    and emerging skills may come from `gap_snapshot` and `emerging_snapshot`, each pay figure
    names its `origin`, and `pay_beside` holds sound figures of the other kind of owner (a
    team's own ads against a report) that differ materially from those shown.
    """

    role: RoleSummary
    snapshot: SnapshotInfo
    pay: tuple[Pay, ...]
    skills: tuple[SkillStat, ...]
    gap_skills: tuple[SkillStat, ...] | None = None
    gap_snapshot: SnapshotInfo | None = None
    emerging_from: tuple[SkillStat, ...] | None = None
    emerging_snapshot: SnapshotInfo | None = None
    pay_beside: tuple[Pay, ...] = ()
    # Gaps of the other kind of owner's sound snapshot that differ materially from those shown.
    gaps_beside: tuple[SkillStat, ...] = ()
    gaps_beside_snapshot: SnapshotInfo | None = None

    def gap_beside_for(self, slug: str) -> SkillStat | None:
        return next((s for s in self.gaps_beside if s.slug == slug), None)

    def pay_for(self, kind: PayKind, region: str = Region.UK) -> Pay | None:
        return next((p for p in self.pay if p.kind == kind and p.region == region), None)

    def pay_beside_for(self, kind: PayKind, region: str = Region.UK) -> Pay | None:
        """The other source's sound figure, when it differs materially from the one shown."""
        return next((p for p in self.pay_beside if p.kind == kind and p.region == region), None)

    @property
    def sources(self) -> tuple[SnapshotInfo, ...]:
        """Every snapshot a figure on this card comes from, the skills' source first."""
        found: dict[int, SnapshotInfo] = {self.snapshot.id: self.snapshot}
        for info in (self.gap_snapshot, self.emerging_snapshot):
            if info is not None:
                found.setdefault(info.id, info)
        for info in self.pay_sources:
            found.setdefault(info.id, info)
        return tuple(found.values())

    @property
    def pay_sources(self) -> tuple[SnapshotInfo, ...]:
        """The snapshots the pay figures shown come from."""
        found: dict[int, SnapshotInfo] = {}
        for pay in (*self.pay, *self.pay_beside):
            if pay.origin is not None and pay.median is not None:
                found.setdefault(pay.origin.id, pay.origin)
        return tuple(found.values()) or (self.snapshot,)

    @property
    def mixes_sources(self) -> bool:
        return len(self.sources) > 1

    @property
    def gaps_source(self) -> SnapshotInfo:
        return self.gap_snapshot or self.snapshot

    @property
    def emerging_source(self) -> SnapshotInfo:
        return self.emerging_snapshot or self.snapshot

    def pay_source(self, region: str = Region.UK) -> SnapshotInfo:
        """Where the region's salary (else its first pay figure) comes from."""
        salary = self.pay_for(PayKind.ANNUAL, region)
        if salary is None or salary.median is None:
            shown = [p for p in self.pay if p.region == region and p.median is not None]
            salary = shown[0] if shown else None
        return salary.origin if salary is not None and salary.origin else self.snapshot

    @property
    def salary(self) -> Pay | None:
        return self.pay_for(PayKind.ANNUAL, Region.UK)

    @property
    def salary_london(self) -> Pay | None:
        return self.pay_for(PayKind.ANNUAL, Region.LONDON)

    @property
    def day_rate(self) -> Pay | None:
        return self.pay_for(PayKind.DAILY, Region.UK)

    @property
    def day_rate_london(self) -> Pay | None:
        return self.pay_for(PayKind.DAILY, Region.LONDON)

    def skills_by_gap(self) -> list[SkillStat]:
        """Skills with both demand and supply figures, largest gap first."""
        skills = self.skills if self.gap_skills is None else self.gap_skills
        measured = [s for s in skills if s.gap_points is not None]
        return sorted(measured, key=lambda s: (-(s.gap_points or 0), s.name))

    def top_gaps(self, limit: int = 5) -> list[SkillStat]:
        return self.skills_by_gap()[:limit]

    def essential_skills(self) -> list[SkillStat]:
        return sorted((s for s in self.skills if s.is_essential), key=source_order)

    def emerging_skills(self) -> list[SkillStat]:
        skills = self.skills if self.emerging_from is None else self.emerging_from
        return sorted((s for s in skills if s.is_emerging), key=source_order)

    def most_demanded(self, limit: int = 10) -> list[SkillStat]:
        """Skills employers ask for most: by demand % where measured, else the source's order."""
        with_demand = sorted(
            (s for s in self.skills if s.demand_pct is not None),
            key=lambda s: (-(s.demand_pct or 0), s.name),
        )
        return with_demand[:limit] if with_demand else self.essential_skills()[:limit]


def source_order(stat: SkillStat) -> tuple[int, str]:
    return (stat.rank if stat.rank is not None else 10_000, stat.name)


@dataclass(frozen=True)
class RolePath:
    role_title: str
    ladder: tuple[str, ...]
    lateral_moves: tuple[str, ...]
    entry_routes: tuple[str, ...]
    typical_tenure_months: int | None
    # The newest published snapshot, which the path, tenure and entry routes follow.
    source: SnapshotInfo | None = None

    @property
    def wording_credit(self) -> str:
        """Whose words the entry routes are; "" when no published snapshot is in use."""
        return "" if self.source is None else self.source.wording_credit

    @property
    def next_step(self) -> str | None:
        """The rung above the role itself on its ladder, when the ladder names the role."""
        for position, step in enumerate(self.ladder):
            titles = [part.strip().lower() for part in step.split("/")]
            if self.role_title.lower() in titles and position + 1 < len(self.ladder):
                return self.ladder[position + 1]
        return None


@dataclass(frozen=True)
class SkillObservation:
    snapshot: SnapshotInfo
    stat: SkillStat


@dataclass(frozen=True)
class SkillAcrossMarket:
    """One skill's figures in every role and snapshot that mentions it, newest first."""

    name: str
    slug: str
    observations: tuple[SkillObservation, ...]


@dataclass(frozen=True)
class CooccurringSkill:
    skill: str  # the skill asked for
    other: str  # a skill often asked for alongside it
    other_slug: str
    ads: int  # ads mentioning both
    share_pct: float  # of the ads asking for `skill`, the share also asking for `other`


@dataclass(frozen=True)
class AskedTogether:
    """Skills that job ads ask for alongside one skill, in one computed snapshot."""

    snapshot: SnapshotInfo
    partners: tuple[CooccurringSkill, ...]

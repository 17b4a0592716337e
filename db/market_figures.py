"""The read model's value types: roles, snapshots and their figures, as plain typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db.constants import PUBLIC_TEAM, PayKind, SourceKind

UK = "UK"
LONDON = "London"
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
    def freshness(self) -> str:
        """How fresh computed figures are; empty for reports, whose month is in `provenance`."""
        if self.source_kind is SourceKind.JOB_ADS:
            return f"ads up to {self.period_end.day} {self.period_end:%b %Y}"
        # A report states only its month ("Updated April 2026"), so no day is claimed.
        return ""

    @property
    def is_team_data(self) -> bool:
        return self.team_id != PUBLIC_TEAM


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

    @property
    def unit(self) -> str:
        return PAY_UNITS[self.kind]


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
    """One role in one snapshot: pay, skills and where the figures come from."""

    role: RoleSummary
    snapshot: SnapshotInfo
    pay: tuple[Pay, ...]
    skills: tuple[SkillStat, ...]

    def pay_for(self, kind: PayKind, region: str = UK) -> Pay | None:
        return next((p for p in self.pay if p.kind == kind and p.region == region), None)

    @property
    def salary(self) -> Pay | None:
        return self.pay_for(PayKind.ANNUAL, UK)

    @property
    def salary_london(self) -> Pay | None:
        return self.pay_for(PayKind.ANNUAL, LONDON)

    @property
    def day_rate(self) -> Pay | None:
        return self.pay_for(PayKind.DAILY, UK)

    @property
    def day_rate_london(self) -> Pay | None:
        return self.pay_for(PayKind.DAILY, LONDON)

    def skills_by_gap(self) -> list[SkillStat]:
        """Skills with both demand and supply figures, largest gap first."""
        measured = [s for s in self.skills if s.gap_points is not None]
        return sorted(measured, key=lambda s: (-(s.gap_points or 0), s.name))

    def top_gaps(self, limit: int = 5) -> list[SkillStat]:
        return self.skills_by_gap()[:limit]

    def essential_skills(self) -> list[SkillStat]:
        return sorted((s for s in self.skills if s.is_essential), key=source_order)

    def emerging_skills(self) -> list[SkillStat]:
        return sorted((s for s in self.skills if s.is_emerging), key=source_order)

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

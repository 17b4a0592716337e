"""A person's skills against a role's figures: what they have, lack and should learn next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from db.constants import PUBLIC_TEAM, PayKind, Region
from db.market import MarketReader
from db.market_comparison import PayChange, SkillChange, SnapshotComparison
from db.market_figures import Pay, RoleStats, SkillStat, SnapshotInfo
from db.resolve import Candidate
from db.skill_graph import SkillGraph
from db.taxonomy import load_taxonomy

# A measured gap this wide (demand minus supply, in points) marks a skill as scarce even
# when the source did not list it among its top gaps.
HIGH_GAP_POINTS = 20.0
# "At most a handful": more than this is a reading list, not advice.
MAX_NEXT_SKILLS = 5
# Lacking essentials lead the list, but only this many, so scarce skills still show.
MAX_ESSENTIALS_IN_NEXT = 2
# Essential skills weigh this much in the coverage score: employers call them must-haves.
ESSENTIAL_WEIGHT = 2


class Reason(StrEnum):
    """Why a skill is worth learning next: which figures back it."""

    MEASURED = "measured"  # demand and supply percentages
    DEMAND = "demand"  # a demand percentage only
    ESSENTIAL = "essential"  # the source classes it as essential for most employers
    EMERGING = "emerging"  # the source names it as newly appearing in job postings


@dataclass(frozen=True)
class NextSkill:
    stat: SkillStat
    reason: Reason
    # Demand × scarcity (share of employers asking × share of candidates not listing it),
    # in points; None when the source gives no figures to rank by.
    opportunity: float | None

    @property
    def emerging(self) -> bool:
        return self.stat.is_emerging


@dataclass(frozen=True)
class Coverage:
    """How much of what the source lists for the role the person has, essentials weighed double."""

    essential_held: int
    essential_total: int
    other_held: int
    other_total: int

    @property
    def points(self) -> int:
        return ESSENTIAL_WEIGHT * self.essential_held + self.other_held

    @property
    def possible(self) -> int:
        return ESSENTIAL_WEIGHT * self.essential_total + self.other_total

    @property
    def percent(self) -> int | None:
        if self.possible == 0:
            return None
        return round(100 * self.points / self.possible)

    @property
    def formula(self) -> str:
        """The score's arithmetic in one line, with this person's numbers."""
        weight = ESSENTIAL_WEIGHT
        return (
            f"({weight} × {self.essential_held} essential + {self.other_held} other skills you "
            f"have) ÷ ({weight} × {self.essential_total} essential + {self.other_total} other "
            f"skills listed for the role) = {self.points}/{self.possible}"
        )


@dataclass(frozen=True)
class RoleFit:
    slug: str
    title: str
    coverage: Coverage


@dataclass(frozen=True)
class SkillCheck:
    """The feedback for one person and one role, as plain figures (templates phrase it)."""

    role_slug: str
    role_title: str
    snapshot: SnapshotInfo
    held: tuple[Candidate, ...]
    essential_held: tuple[SkillStat, ...]
    essential_lacking: tuple[SkillStat, ...]
    gaps_held: tuple[SkillStat, ...]  # scarce skills they have: their advantage
    gaps_lacking: tuple[SkillStat, ...]
    emerging_held: tuple[SkillStat, ...]
    next_skills: tuple[NextSkill, ...]
    coverage: Coverage
    pay: tuple[Pay, ...]
    next_step: str | None
    # Every known role with a coverage for these skills, best first; empty with one role.
    fits: tuple[RoleFit, ...] = ()
    # Skills they have that the source does not list for this role.
    unlisted: tuple[Candidate, ...] = ()
    # Families they are credited with through a member they hold: family slug -> that member
    # ("Machine Learning" via "PyTorch").
    credited_via: Mapping[str, Candidate] = field(default_factory=dict)
    # A listed family's examples as its source gives them ("AWS", "GCP", "Azure").
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Every snapshot the check's figures come from (its skills, gaps and pay may differ).
    sources: tuple[SnapshotInfo, ...] = ()
    # Soft skills the role lists that they did not name: a closing note, not things to learn.
    soft_lacking: tuple[SkillStat, ...] = ()

    @property
    def other_gaps_lacking(self) -> tuple[SkillStat, ...]:
        """Scarce skills they lack beyond those already in "learn next": each named once."""
        advised = {next_skill.stat.slug for next_skill in self.next_skills}
        return tuple(stat for stat in self.gaps_lacking if stat.slug not in advised)

    @property
    def best_fit(self) -> RoleFit | None:
        return self.fits[0] if len(self.fits) > 1 else None

    @property
    def salary(self) -> Pay | None:
        return _pay(self.pay, PayKind.ANNUAL, Region.UK)

    @property
    def salary_london(self) -> Pay | None:
        return _pay(self.pay, PayKind.ANNUAL, Region.LONDON)

    @property
    def day_rate(self) -> Pay | None:
        return _pay(self.pay, PayKind.DAILY, Region.UK)

    @property
    def day_rate_london(self) -> Pay | None:
        return _pay(self.pay, PayKind.DAILY, Region.LONDON)


def _pay(pay: Sequence[Pay], kind: PayKind, region: str) -> Pay | None:
    return next((p for p in pay if p.kind == kind and p.region == region), None)


def is_high_gap(stat: SkillStat) -> bool:
    return stat.is_gap or (stat.gap_points is not None and stat.gap_points >= HIGH_GAP_POINTS)


def coverage_of(stats: RoleStats, held: set[str]) -> Coverage:
    essential = [s for s in stats.skills if s.is_essential]
    other = [s for s in stats.skills if not s.is_essential]
    return Coverage(
        essential_held=sum(1 for s in essential if s.slug in held),
        essential_total=len(essential),
        other_held=sum(1 for s in other if s.slug in held),
        other_total=len(other),
    )


def next_skills(
    stats: RoleStats,
    held: set[str],
    limit: int = MAX_NEXT_SKILLS,
    soft: frozenset[str] = frozenset(),
) -> list[NextSkill]:
    """What to learn next, best first: a couple of missing essentials, then by demand and
    scarcity (demand % × share of candidates without it), then emerging skills without figures.
    Soft skills (`soft` slugs) are not things to learn and are left out.
    """
    lacking = [s for s in stats.skills if s.slug not in held and s.slug not in soft]
    essentials = [s for s in lacking if s.is_essential and s.demand_pct is None]
    measured = [s for s in lacking if s.demand_pct is not None]
    emerging = [s for s in lacking if s.is_emerging and not s.is_essential and s.demand_pct is None]

    chosen = [
        NextSkill(s, Reason.ESSENTIAL, None)
        for s in sorted(essentials, key=_source_order)[:MAX_ESSENTIALS_IN_NEXT]
    ]
    ranked = sorted(measured, key=lambda s: (-_opportunity(s), s.name))
    chosen += [
        NextSkill(
            s, Reason.MEASURED if s.supply_pct is not None else Reason.DEMAND, _opportunity(s)
        )
        for s in ranked
    ]
    chosen += [NextSkill(s, Reason.EMERGING, None) for s in sorted(emerging, key=_source_order)]
    return chosen[:limit]


def _opportunity(stat: SkillStat) -> float:
    demand = stat.demand_pct or 0.0
    supply = stat.supply_pct if stat.supply_pct is not None else 0.0
    return round(demand * (100.0 - supply) / 100.0, 1)


def _source_order(stat: SkillStat) -> tuple[int, str]:
    return (stat.rank if stat.rank is not None else 10_000, stat.name)


def assess(
    stats: RoleStats,
    held: Sequence[Candidate],
    *,
    next_step: str | None = None,
    other_roles: Mapping[str, RoleStats] | None = None,
    graph: SkillGraph | None = None,
) -> SkillCheck:
    """The feedback for skills `held` against the role's newest figures.

    A member of a family covers the family ("PyTorch" covers "Machine Learning"), never the
    other way round: a family held says nothing about which of its members a person knows.
    """
    graph = graph or SkillGraph()
    credited = graph.credit(held)
    slugs = {candidate.slug for candidate in held} | set(credited)
    listed = {stat.slug for stat in stats.skills}
    soft = soft_skill_slugs()
    essential = stats.essential_skills()
    # Gaps may come from another source than the skills list (db/sources.py): take the card's.
    gaps = [s for s in stats.skills_by_gap() if is_high_gap(s)]
    fits = [
        RoleFit(role.role.slug, role.role.title, coverage_of(role, slugs))
        for role in (other_roles or {}).values()
    ]
    fits.sort(key=lambda fit: (-(fit.coverage.percent or 0), fit.title))
    return SkillCheck(
        role_slug=stats.role.slug,
        role_title=stats.role.title,
        snapshot=stats.snapshot,
        sources=stats.sources,
        held=tuple(held),
        essential_held=tuple(s for s in essential if s.slug in slugs),
        essential_lacking=tuple(s for s in essential if s.slug not in slugs),
        gaps_held=tuple(s for s in gaps if s.slug in slugs),
        gaps_lacking=tuple(s for s in gaps if s.slug not in slugs),
        emerging_held=tuple(s for s in stats.emerging_skills() if s.slug in slugs),
        next_skills=tuple(next_skills(stats, slugs, soft=soft)),
        coverage=coverage_of(stats, slugs),
        pay=stats.pay,
        next_step=next_step,
        fits=tuple(fits),
        unlisted=tuple(
            c
            for c in held
            if c.slug not in listed and not any(f in listed for f in graph.ancestors(c.slug))
        ),
        credited_via={slug: c for slug, c in credited.items() if slug in listed},
        examples={s.slug: graph.examples[s.slug] for s in stats.skills if s.slug in graph.examples},
        soft_lacking=tuple(
            s for s in sorted(stats.skills, key=_source_order) if s.slug in soft - slugs
        ),
    )


@lru_cache(maxsize=1)
def soft_skill_slugs() -> frozenset[str]:
    """The taxonomy's soft skills: personal qualities no course teaches."""
    return frozenset(skill.slug for skill in load_taxonomy().skills if skill.soft)


async def check_skills(
    market: MarketReader,
    held: Sequence[Candidate],
    role_slug: str,
    team_id: str = PUBLIC_TEAM,
) -> SkillCheck | None:
    """Read the role's figures (and every other role's, for the best fit) and assess; None
    when the role has no figures the team may see."""
    stats = await market.role_stats(role_slug, team_id)
    if stats is None:
        return None
    path = await market.role_path(role_slug)
    others: dict[str, RoleStats] = {role_slug: stats}
    for role in await market.list_roles(team_id):
        if role.slug not in others:
            other = await market.role_stats(role.slug, team_id)
            if other is not None:
                others[role.slug] = other
    return assess(
        stats,
        held,
        next_step=None if path is None else path.next_step,
        other_roles=others,
        graph=await market.skill_graph(),
    )


def feedback_summary(check: SkillCheck) -> dict[str, Any]:
    """The few facts of a check kept for the Home tab when the person saved a profile."""
    return {
        "role_slug": check.role_slug,
        "role_title": check.role_title,
        "coverage": check.coverage.percent,
        "essential_lacking": [s.name for s in check.essential_lacking],
        "next_skills": [n.stat.name for n in check.next_skills],
        "best_fit": check.best_fit.title if check.best_fit else None,
        "source": check.snapshot.provenance_dated,
    }


@dataclass(frozen=True)
class PersonalChanges:
    """What changed for one person between two snapshots of their target role."""

    comparison: SnapshotComparison
    lacking_gained_demand: tuple[SkillChange, ...]
    newly_emerging: tuple[SkillChange, ...]

    @property
    def pay_changes(self) -> list[PayChange]:
        return [change for change in self.comparison.pay_changes if change.changed]

    @property
    def has_changes(self) -> bool:
        return bool(self.lacking_gained_demand or self.newly_emerging or self.pay_changes)


def personal_changes(
    comparison: SnapshotComparison, held: Iterable[str], graph: SkillGraph | None = None
) -> PersonalChanges:
    """Skills they lack whose demand rose, skills newly emerging, and pay changes."""
    slugs = set(held)
    if graph is not None:
        slugs.update(family for slug in list(slugs) for family in graph.ancestors(slug))
    gained = [
        change
        for change in comparison.skill_changes
        if change.slug not in slugs and (change.demand.delta or 0) > 0
    ]
    gained.sort(key=lambda change: (-(change.demand.delta or 0), change.name))
    return PersonalChanges(
        comparison=comparison,
        lacking_gained_demand=tuple(gained),
        newly_emerging=tuple(comparison.newly_emerging),
    )

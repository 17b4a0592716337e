"""What changed between two snapshots of a role: pay and skills, compared figure by figure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.constants import PayKind, Region
from db.market_figures import Pay, RoleStats, SkillStat, SnapshotInfo


@dataclass(frozen=True)
class Change:
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return round(self.new - self.old, 2)

    @property
    def percent(self) -> float | None:
        if self.delta is None or not self.old:
            return None
        return round(100 * self.delta / self.old, 1)

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class PayChange:
    kind: PayKind
    region: str
    median: Change
    low: Change
    high: Change
    old_sample_size: int | None
    new_sample_size: int | None

    @property
    def changed(self) -> bool:
        return self.median.changed or self.low.changed or self.high.changed


class SkillMovement(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SkillChange:
    name: str
    slug: str
    old: SkillStat | None
    new: SkillStat | None

    @property
    def movement(self) -> SkillMovement:
        if self.old is None:
            return SkillMovement.ADDED
        if self.new is None:
            return SkillMovement.REMOVED
        if (
            self.demand.changed
            or self.supply.changed
            or self.old.is_emerging != self.new.is_emerging
            or self.old.is_essential != self.new.is_essential
            or self.old.is_gap != self.new.is_gap
        ):
            return SkillMovement.MOVED
        return SkillMovement.UNCHANGED

    @property
    def demand(self) -> Change:
        return Change(_attr(self.old, "demand_pct"), _attr(self.new, "demand_pct"))

    @property
    def supply(self) -> Change:
        return Change(_attr(self.old, "supply_pct"), _attr(self.new, "supply_pct"))

    @property
    def gap(self) -> Change:
        return Change(
            None if self.old is None else self.old.gap_points,
            None if self.new is None else self.new.gap_points,
        )

    @property
    def newly_emerging(self) -> bool:
        return self.new is not None and self.new.is_emerging and not _flag(self.old, "is_emerging")


def _attr(figures: SkillStat | Pay | None, name: str) -> float | None:
    """A figure of a skill or pay entry that may be missing from one of two snapshots."""
    return None if figures is None else getattr(figures, name)


def _flag(stat: SkillStat | None, name: str) -> bool:
    return False if stat is None else bool(getattr(stat, name))


@dataclass(frozen=True)
class SnapshotComparison:
    """What changed for a role between two snapshots of the same source and region."""

    role_title: str
    older: SnapshotInfo
    newer: SnapshotInfo
    pay_changes: tuple[PayChange, ...]
    skill_changes: tuple[SkillChange, ...]

    def _with(self, movement: SkillMovement) -> list[SkillChange]:
        return [change for change in self.skill_changes if change.movement is movement]

    @property
    def skills_added(self) -> list[SkillChange]:
        return self._with(SkillMovement.ADDED)

    @property
    def skills_removed(self) -> list[SkillChange]:
        return self._with(SkillMovement.REMOVED)

    @property
    def skills_moved(self) -> list[SkillChange]:
        return self._with(SkillMovement.MOVED)

    @property
    def newly_emerging(self) -> list[SkillChange]:
        return [change for change in self.skill_changes if change.newly_emerging]

    @property
    def gap_changes(self) -> list[SkillChange]:
        """Skills whose gap moved, by how far it moved."""
        moved = [c for c in self.skill_changes if c.gap.delta not in (None, 0)]
        return sorted(moved, key=lambda c: (-abs(c.gap.delta or 0), c.name))

    @property
    def has_changes(self) -> bool:
        return any(p.changed for p in self.pay_changes) or any(
            c.movement is not SkillMovement.UNCHANGED for c in self.skill_changes
        )


def compare_stats(old: RoleStats, new: RoleStats) -> SnapshotComparison:
    """The changes from one snapshot's figures to another's."""
    pay_keys = sorted(
        {(p.kind, p.region) for p in (*old.pay, *new.pay)},
        key=lambda key: (list(PayKind).index(key[0]), key[1] != Region.UK, key[1]),
    )
    pay_changes = []
    for kind, region in pay_keys:
        before, after = old.pay_for(kind, region), new.pay_for(kind, region)
        pay_changes.append(
            PayChange(
                kind,
                region,
                Change(_attr(before, "median"), _attr(after, "median")),
                Change(_attr(before, "low"), _attr(after, "low")),
                Change(_attr(before, "high"), _attr(after, "high")),
                None if before is None else before.sample_size,
                None if after is None else after.sample_size,
            )
        )
    old_skills = {s.slug: s for s in old.skills}
    new_skills = {s.slug: s for s in new.skills}
    skill_changes = [
        SkillChange(
            (new_skills.get(slug) or old_skills[slug]).name,
            slug,
            old_skills.get(slug),
            new_skills.get(slug),
        )
        for slug in sorted(old_skills.keys() | new_skills.keys())
    ]
    return SnapshotComparison(
        new.role.title, old.snapshot, new.snapshot, tuple(pay_changes), tuple(skill_changes)
    )

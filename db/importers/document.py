"""The typed form every importer produces: one market snapshot, checked and ready to store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter

from db.constants import PUBLIC_TEAM, PayKind, SourceKind
from db.names import slugify


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or, for warnings, odd) in an input file, with where it is."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class InvalidImport(Exception):
    """An input file was refused; nothing of it was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class PayDocument:
    kind: PayKind
    region: str
    median: float | None = None
    low: float | None = None
    high: float | None = None
    p10: float | None = None
    p25: float | None = None
    p75: float | None = None
    p90: float | None = None
    sample_size: int | None = None
    # The source's own word for a figure that is not a plain median, e.g. "around".
    qualifier: str = ""


@dataclass(frozen=True)
class SkillDocument:
    name: str
    aliases: tuple[str, ...] = ()
    demand_pct: float | None = None
    supply_pct: float | None = None
    demand_low_pct: float | None = None
    demand_high_pct: float | None = None
    is_essential: bool = False
    is_emerging: bool = False
    is_gap: bool = False
    rank: int | None = None
    sample_size: int | None = None
    note: str = ""
    # The examples the source gives of a family ("Cloud Platforms (AWS/GCP/Azure)"): skills of
    # their own, stored as the family's members.
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleDocument:
    title: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    typical_tenure_months: int | None = None
    entry_routes: tuple[str, ...] = ()
    progression: tuple[str, ...] = ()
    lateral_moves: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return slugify(self.title)


# The documents' fields, read shallowly: the same JSON as dataclasses.asdict, whose deep
# copies of values that are all immutable cost most of a checksum.
# A qualifier counts only where given, so snapshots stored without one keep their checksums.
_PAY_FIELDS = tuple(f.name for f in fields(PayDocument) if f.name != "qualifier")
_pay_values = attrgetter(*_PAY_FIELDS)
_SKILL_FACTS = tuple(f.name for f in fields(SkillDocument) if f.name not in ("note", "members"))
_skill_facts = attrgetter(*_SKILL_FACTS)


@dataclass(frozen=True)
class SnapshotDocument:
    role: RoleDocument
    published_on: date
    period_label: str
    period_start: date
    period_end: date
    source: str
    source_kind: SourceKind
    region: str = "UK"
    team_id: str = PUBLIC_TEAM
    sample_size: int | None = None
    supply_sample_size: int | None = None
    pay: tuple[PayDocument, ...] = ()
    skills: tuple[SkillDocument, ...] = ()
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    def checksum(self) -> str:
        """SHA-256 over the facts only: prose and warnings do not change a snapshot."""
        facts = {
            "role": self.role.slug,
            "tenure": self.role.typical_tenure_months,
            "progression": list(self.role.progression),
            "lateral": list(self.role.lateral_moves),
            "region": self.region,
            "team": self.team_id,
            "published_on": self.published_on.isoformat(),
            "source": self.source,
            "period": [self.period_start, self.period_end],
            "sample": [self.sample_size, self.supply_sample_size],
            "pay": sorted(
                (
                    dict(zip(_PAY_FIELDS, _pay_values(pay), strict=True))
                    | ({"qualifier": pay.qualifier} if pay.qualifier else {})
                    for pay in self.pay
                ),
                key=lambda p: (str(p["kind"]), p["region"]),
            ),
            "skills": sorted(
                (
                    dict(zip(_SKILL_FACTS, _skill_facts(skill), strict=True))
                    | {"name": slugify(skill.name), "aliases": sorted(skill.aliases)}
                    # Only when given, so snapshots without examples keep their checksums.
                    | ({"members": sorted(skill.members)} if skill.members else {})
                    for skill in self.skills
                ),
                key=lambda s: s["name"],
            ),
        }
        canonical = json.dumps(facts, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

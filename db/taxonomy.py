"""The skills taxonomy shipped in db/data/taxonomy.yaml: names, aliases, guards and families."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from db.constants import DATA_DIR
from db.names import normalize_name, slugify

TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
KNOWN_VERSIONS = (1, 2)


class TaxonomyError(ValueError):
    """The taxonomy file is malformed: a packaging mistake, not a user's."""


@dataclass(frozen=True)
class TaxonomySkill:
    name: str
    category: str
    # Phrases matched whatever their case ("fine-tuning", "Fine Tuning").
    aliases: tuple[str, ...]
    # Phrases matched only as written: short or ordinary-word names (R, Go, Spark, Rust).
    exact: tuple[str, ...]
    # Patterns of text around a match that show it is not this skill ("go-to-market").
    not_in: tuple[re.Pattern[str], ...]
    # Every skill a mention of this one also counts for, by name: its families, theirs in
    # turn, and what it implies ("chunking" is RAG work). Worked out by parse_taxonomy.
    implies: tuple[str, ...] = ()
    # The families it belongs to directly ("PyTorch" -> "Deep Learning").
    parents: tuple[str, ...] = ()
    # A personal quality or kind of experience ("Problem Solving"), which no course teaches:
    # advice mentions it once, after the skills to learn.
    soft: bool = False
    slug: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once: slugs are looked up for every mention in every ad.
        object.__setattr__(self, "slug", slugify(self.name))

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """Every other name of the skill, for the store's alias table."""
        names = dict.fromkeys(a for a in (*self.aliases, *self.exact) if a != self.name)
        return tuple(names)


@dataclass(frozen=True)
class RoleRule:
    """Titles that denote a role: regular expressions over the cleaned-up title."""

    title: str
    patterns: tuple[re.Pattern[str], ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    skills: tuple[TaxonomySkill, ...]
    roles: tuple[RoleRule, ...]
    seniority_words: tuple[str, ...]
    version: int = 1

    def by_slug(self) -> dict[str, TaxonomySkill]:
        return {skill.slug: skill for skill in self.skills}

    def family_slugs(self) -> frozenset[str]:
        """Skills that other skills name as a parent: the families."""
        names = {parent for skill in self.skills for parent in skill.parents}
        return frozenset(skill.slug for skill in self.skills if skill.name in names)

    def parent_edges(self) -> list[tuple[str, str]]:
        """(member slug, family slug) for every direct family link."""
        slugs = {skill.name: skill.slug for skill in self.skills}
        return [(skill.slug, slugs[parent]) for skill in self.skills for parent in skill.parents]

    def lookup_table(self) -> dict[str, str]:
        """normalize_name(any name or alias) -> skill slug, for lists of skills typed by people."""
        table: dict[str, str] = {}
        for skill in self.skills:
            for name in (skill.name, *skill.aliases, *skill.exact):
                table.setdefault(normalize_name(name), skill.slug)
        return table


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyError(f"{where}: expected a list of non-empty strings")
    return tuple(v.strip() for v in value)


# libyaml's safe loader when PyYAML was built with it (the wheels are): the same documents,
# parsed several times faster; every command that starts reads the taxonomy.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_taxonomy(text: str) -> Taxonomy:
    data = yaml.load(text, Loader=_SAFE_LOADER)
    if not isinstance(data, dict) or data.get("format") != "skillgap-taxonomy":
        raise TaxonomyError("not a skillgap-taxonomy document")
    version = data.get("version")
    if version not in KNOWN_VERSIONS:
        raise TaxonomyError(f"unknown taxonomy version {version!r}")
    skills: list[TaxonomySkill] = []
    seen: dict[str, str] = {}
    for category, entries in (data.get("skills") or {}).items():
        for entry in entries or []:
            entry = {"name": entry} if isinstance(entry, str) else entry
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise TaxonomyError(f"{category}: each skill needs a name")
            name = entry["name"].strip()
            where = f"{category}/{name}"
            exact = _strings(entry.get("exact"), where)
            aliases = _strings(entry.get("aliases"), where)
            # The name itself matches case-insensitively unless it is listed as exact-only.
            if name not in exact and not entry.get("name_is_ambiguous", False):
                aliases = (name, *aliases)
            try:
                not_in = tuple(re.compile(p) for p in _strings(entry.get("not_in"), where))
            except re.error as problem:
                raise TaxonomyError(f"{where}: bad not_in pattern: {problem}") from problem
            implies = _strings(entry.get("implies"), where)
            parents = _strings(entry.get("parents"), where)
            skill = TaxonomySkill(
                name,
                str(category),
                aliases,
                exact,
                not_in,
                implies,
                parents,
                soft=bool(entry.get("soft")),
            )
            for alias in (*aliases, *exact):
                key = alias if alias in exact else alias.lower()
                owner = seen.setdefault(key, name)
                if owner != name:
                    raise TaxonomyError(f"{where}: alias {alias!r} already belongs to {owner}")
            skills.append(skill)
    if len({s.slug for s in skills}) != len(skills):
        raise TaxonomyError("two skills share a name")
    skills = _with_closures(skills)
    roles = []
    for entry in data.get("roles") or []:
        title = entry["title"]
        try:
            patterns = tuple(re.compile(p) for p in _strings(entry.get("patterns"), title))
        except re.error as problem:
            raise TaxonomyError(f"{title}: bad pattern: {problem}") from problem
        roles.append(RoleRule(title, patterns, _strings(entry.get("aliases"), title)))
    seniority = _strings(data.get("seniority_words"), "seniority_words")
    return Taxonomy(tuple(skills), tuple(roles), seniority, int(version))


def _with_closures(skills: list[TaxonomySkill]) -> list[TaxonomySkill]:
    """Each skill with `implies` widened to everything it counts for, after checking the graph:
    every parent and implied skill exists (no orphans) and no skill is its own ancestor."""
    names = {s.name for s in skills}
    for skill in skills:
        for kind, targets in (("parent", skill.parents), ("implied skill", skill.implies)):
            for target in targets:
                if target not in names or target == skill.name:
                    raise TaxonomyError(f"{skill.name}: unknown {kind} {target!r}")
    direct = {s.name: (*s.parents, *s.implies) for s in skills}
    closures: dict[str, tuple[str, ...]] = {}

    def closure(name: str, path: tuple[str, ...]) -> tuple[str, ...]:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise TaxonomyError(f"the skills graph has a cycle: {cycle}")
        if name not in closures:
            found: dict[str, None] = {}
            for target in direct[name]:
                found[target] = None
                found.update(dict.fromkeys(closure(target, (*path, name))))
            closures[name] = tuple(found)
        return closures[name]

    return [replace(skill, implies=closure(skill.name, ())) for skill in skills]


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    return parse_taxonomy(path.read_text(encoding="utf-8"))

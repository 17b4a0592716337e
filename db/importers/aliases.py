"""The curated alias table (db/data/aliases.yaml): one canonical name per skill or role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from db.constants import DATA_DIR
from db.names import normalize_name

ALIASES_FILE = DATA_DIR / "aliases.yaml"


@dataclass(frozen=True)
class NameTable:
    """Canonical names and their aliases, looked up by any of their normalized spellings."""

    canonical_by_spelling: Mapping[str, str]
    aliases_by_canonical: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_mapping(cls, entries: Mapping[str, list[str]]) -> NameTable:
        canonical_by_spelling: dict[str, str] = {}
        aliases_by_canonical: dict[str, tuple[str, ...]] = {}
        for canonical, aliases in entries.items():
            aliases_by_canonical[canonical] = tuple(aliases)
            for spelling in (canonical, *aliases):
                key = normalize_name(spelling)
                owner = canonical_by_spelling.setdefault(key, canonical)
                if owner != canonical:
                    raise ValueError(
                        f"{spelling!r} is listed under both {owner!r} and {canonical!r}"
                    )
        return cls(canonical_by_spelling, aliases_by_canonical)

    def resolve(self, name: str, aliases: Iterable[str] = ()) -> tuple[str, tuple[str, ...]]:
        """The canonical name for `name` and every alias it should carry, sorted and unique."""
        canonical = self.canonical_by_spelling.get(normalize_name(name), name)
        extra = self.aliases_by_canonical.get(canonical, ())
        return canonical, merge_aliases(canonical, (name, *aliases, *extra))


def merge_aliases(name: str, aliases: Iterable[str]) -> tuple[str, ...]:
    """Aliases unique by normalized form, without the name itself, in a stable order."""
    own = normalize_name(name)
    chosen: dict[str, str] = {}
    for alias in aliases:
        alias = " ".join(alias.split())
        key = normalize_name(alias)
        if not key or key == own:
            continue
        # The smallest spelling wins so that the result never depends on input order.
        chosen[key] = min(chosen.get(key, alias), alias)
    return tuple(sorted(chosen.values()))


@dataclass(frozen=True)
class CuratedAliases:
    skills: NameTable
    roles: NameTable


def load_aliases(path: Path) -> CuratedAliases:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return CuratedAliases(
        skills=NameTable.from_mapping(raw.get("skills") or {}),
        roles=NameTable.from_mapping(raw.get("roles") or {}),
    )


@cache
def curated_aliases() -> CuratedAliases:
    return load_aliases(ALIASES_FILE)

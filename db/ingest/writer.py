"""The skills taxonomy written into the store in bulk: each taxonomy skill a store skill."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.ingest.taxonomy import Taxonomy
from db.models import (
    Skill,
    SkillAlias,
)
from db.names import normalize_name

_BATCH = 2_000


@dataclass(frozen=True)
class SkillCatalogue:
    """How the taxonomy's skills are known in this store."""

    names: dict[str, str]  # taxonomy slug -> store skill name
    ids: dict[str, int]  # store skill name -> skill id
    # Taxonomy slugs that denote the same store skill as another one (first claim wins in the
    # alias table), mapped to that one: counting them apart would count one skill twice.
    merged: dict[str, str]


async def sync_taxonomy(session: AsyncSession, taxonomy: Taxonomy) -> SkillCatalogue:
    """Make every taxonomy skill a store skill with its aliases; reuse the ones that exist."""
    skills = {s.slug: s for s in (await session.exec(select(Skill))).all()}
    aliases = {a.normalized: a.skill_id for a in (await session.exec(select(SkillAlias))).all()}
    by_id = {s.id: s for s in skills.values()}
    missing = []
    found: dict[str, Skill] = {}
    for entry in taxonomy.skills:
        existing = skills.get(entry.slug)
        if existing is None and normalize_name(entry.name) in aliases:
            existing = by_id.get(aliases[normalize_name(entry.name)])
        if existing is None:
            missing.append(entry)
        else:
            found[entry.slug] = existing
    created = [Skill(slug=entry.slug, name=entry.name) for entry in missing]
    session.add_all(created)
    await session.flush()
    for entry, skill in zip(missing, created, strict=True):
        found[entry.slug] = skill
    new_aliases = []
    for entry in taxonomy.skills:
        skill_id = found[entry.slug].id
        assert skill_id is not None
        for alias in (entry.name, *entry.all_aliases):
            normalized = normalize_name(alias)
            if normalized and normalized not in aliases:
                aliases[normalized] = skill_id
                new_aliases.append({"skill_id": skill_id, "alias": alias, "normalized": normalized})
    aliases_table = SkillAlias.__table__  # type: ignore[attr-defined]
    for start in range(0, len(new_aliases), _BATCH):
        await session.execute(insert(aliases_table), new_aliases[start : start + _BATCH])
    names: dict[str, str] = {}
    ids: dict[str, int] = {}
    merged: dict[str, str] = {}
    first_slug_of: dict[int, str] = {}
    for entry in taxonomy.skills:
        skill = found[entry.slug]
        assert skill.id is not None
        names[entry.slug] = skill.name
        ids[skill.name] = skill.id
        first = first_slug_of.setdefault(skill.id, entry.slug)
        if first != entry.slug:
            merged[entry.slug] = first
    return SkillCatalogue(names, ids, merged)

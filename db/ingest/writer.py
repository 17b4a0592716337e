"""The skills taxonomy written into the store in bulk: each taxonomy skill a store skill."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import (
    Skill,
    SkillAlias,
)
from db.names import normalize_name
from db.skill_graph import add_parent_links
from db.taxonomy import Taxonomy

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
    """Make every taxonomy skill a store skill with its aliases and families; reuse the ones
    that exist."""
    skills = {s.slug: s for s in (await session.exec(select(Skill))).all()}
    aliases = {a.normalized: a.skill_id for a in (await session.exec(select(SkillAlias))).all()}
    by_id = {s.id: s for s in skills.values()}
    taxonomy_slugs = {entry.slug for entry in taxonomy.skills}
    missing = []
    found: dict[str, Skill] = {}
    for entry in taxonomy.skills:
        existing = skills.get(entry.slug)
        if existing is None and normalize_name(entry.name) in aliases:
            owner = by_id.get(aliases[normalize_name(entry.name)])
            # A name that another taxonomy skill used to claim ("AWS" of "Cloud Platforms")
            # is a skill of its own now: two taxonomy skills are never merged.
            if owner is not None and owner.slug not in taxonomy_slugs:
                existing = owner
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
    aliases_table = SkillAlias.__table__  # type: ignore[attr-defined]
    claims = {
        entry.slug: {normalize_name(a) for a in (entry.name, *entry.all_aliases)}
        for entry in taxonomy.skills
    }
    for entry in taxonomy.skills:
        skill_id = found[entry.slug].id
        assert skill_id is not None
        for alias in (entry.name, *entry.all_aliases):
            normalized = normalize_name(alias)
            if not normalized:
                continue
            if normalized not in aliases:
                aliases[normalized] = skill_id
                new_aliases.append({"skill_id": skill_id, "alias": alias, "normalized": normalized})
                continue
            owner = by_id.get(aliases[normalized])
            if (
                owner is not None
                and owner.id != skill_id
                and owner.slug in claims
                and normalized not in claims[owner.slug]
            ):
                # The taxonomy moved this name to another of its skills ("LoRA" from
                # "Model Fine-Tuning at Scale" to "LoRA"): what people type follows it.
                aliases[normalized] = skill_id
                await session.execute(
                    update(aliases_table)
                    .where(aliases_table.c.normalized == normalized)
                    .values(skill_id=skill_id)
                )
    for start in range(0, len(new_aliases), _BATCH):
        await session.execute(insert(aliases_table), new_aliases[start : start + _BATCH])
    ids_by_slug = {slug: skill.id for slug, skill in found.items() if skill.id is not None}
    await add_parent_links(
        session,
        [(ids_by_slug[child], ids_by_slug[parent]) for child, parent in taxonomy.parent_edges()],
        replace_among=frozenset(ids_by_slug.values()),
    )
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

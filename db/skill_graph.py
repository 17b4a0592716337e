"""The skills graph in the store: which skills are families of which, read and written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, update
from sqlalchemy import select as sql_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Skill, SkillParent

if TYPE_CHECKING:
    from db.resolve import Candidate


@dataclass(frozen=True)
class SkillGraph:
    """Families and members by skill slug; every skill not in it simply has neither."""

    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    # Family slug -> the member names a source gives as its examples, in the source's order.
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def ancestors(self, slug: str) -> tuple[str, ...]:
        """Every family above the skill, nearest first, each once."""
        found: dict[str, None] = {}
        frontier = list(self.parents.get(slug, ()))
        while frontier:
            parent = frontier.pop(0)
            if parent not in found and parent != slug:
                found[parent] = None
                frontier.extend(self.parents.get(parent, ()))
        return tuple(found)

    def members(self, slug: str) -> tuple[str, ...]:
        """The skills directly in the family, by name."""
        children = [child for child, parents in self.parents.items() if slug in parents]
        return tuple(sorted(children, key=lambda child: (self.names.get(child) or child).lower()))

    def relatives(self, slug: str) -> set[str]:
        """Every family above the skill and every skill below it."""
        below = {other for other in self.parents if slug in self.ancestors(other)}
        return below | set(self.ancestors(slug))

    def is_family(self, slug: str) -> bool:
        return any(slug in parents for parents in self.parents.values())

    def credit(self, held: Iterable[Candidate]) -> dict[str, Candidate]:
        """Each family the held skills earn, with the first held skill that earned it.

        A skill held itself is not in the answer: it needs no credit.
        """
        own = {candidate.slug for candidate in held}
        earned: dict[str, Candidate] = {}
        for candidate in held:
            for family in self.ancestors(candidate.slug):
                if family not in own:
                    earned.setdefault(family, candidate)
        return earned


async def load_skill_graph(session: AsyncSession) -> SkillGraph:
    rows = (
        await session.execute(
            sql_select(  # type: ignore[call-overload]
                SkillParent.skill_id, SkillParent.parent_id, SkillParent.example_rank
            )
        )
    ).all()
    skills = (await session.execute(sql_select(Skill.id, Skill.slug, Skill.name))).all()  # type: ignore[call-overload]
    slug_of = {row.id: row.slug for row in skills}
    names = {row.slug: row.name for row in skills}
    parents: dict[str, list[str]] = {}
    examples: dict[str, list[tuple[int, str]]] = {}
    for skill_id, parent_id, example_rank in rows:
        if skill_id in slug_of and parent_id in slug_of:
            parents.setdefault(slug_of[skill_id], []).append(slug_of[parent_id])
            if example_rank is not None:
                examples.setdefault(slug_of[parent_id], []).append(
                    (example_rank, names[slug_of[skill_id]])
                )
    return SkillGraph(
        {slug: tuple(sorted(found)) for slug, found in parents.items()},
        names,
        {slug: tuple(name for _, name in sorted(found)) for slug, found in examples.items()},
    )


def _reaches(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    """Whether `goal` is `start` or one of its ancestors."""
    seen: set[int] = set()
    frontier = [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            frontier.extend(edges.get(node, ()))
    return False


async def add_parent_links(
    session: AsyncSession,
    links: Iterable[tuple[int, int]],
    *,
    replace_among: frozenset[int] = frozenset(),
    as_examples: bool = False,
) -> list[tuple[int, int]]:
    """Store (skill id, family id) links that are new; refuse any that would close a cycle.

    Links between two skills of `replace_among` that are not given, and that no source gave
    as an example, are removed first: the caller (the taxonomy) is the authority on how its
    own skills relate. With `as_examples` the links are a source's examples of each family,
    in order. Returns the links left out because they would have made a skill its own
    ancestor.
    """
    existing = (
        await session.execute(
            sql_select(  # type: ignore[call-overload]
                SkillParent.skill_id, SkillParent.parent_id, SkillParent.example_rank
            )
        )
    ).all()
    wanted = list(dict.fromkeys(links))
    wanted_set = set(wanted)
    stale = [
        (child, parent)
        for child, parent, example_rank in existing
        if child in replace_among
        and parent in replace_among
        and example_rank is None
        and (child, parent) not in wanted_set
    ]
    for child, parent in stale:
        await session.execute(
            delete(SkillParent)
            .where(col(SkillParent.skill_id) == child)
            .where(col(SkillParent.parent_id) == parent)
        )
    edges: dict[int, set[int]] = {}
    for child, parent, _ in existing:
        if (child, parent) not in stale:
            edges.setdefault(child, set()).add(parent)
    new: list[dict[str, int | None]] = []
    refused: list[tuple[int, int]] = []
    rank_in_family: dict[int, int] = {}
    for child, parent in wanted:
        rank = rank_in_family[parent] = rank_in_family.get(parent, 0) + 1
        if parent in edges.get(child, ()):
            if as_examples:
                await session.execute(
                    update(SkillParent)
                    .where(col(SkillParent.skill_id) == child)
                    .where(col(SkillParent.parent_id) == parent)
                    .values(example_rank=rank)
                )
            continue
        if _reaches(edges, parent, child):
            refused.append((child, parent))
            continue
        edges.setdefault(child, set()).add(parent)
        new.append(
            {"skill_id": child, "parent_id": parent, "example_rank": rank if as_examples else None}
        )
    if new:
        await session.execute(insert(SkillParent.__table__), new)  # type: ignore[attr-defined]
    return refused

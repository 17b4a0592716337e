"""Writes checked snapshot documents into the store: all of them in one transaction, or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import transaction
from db.importers.document import SnapshotDocument
from db.models import (
    MarketSnapshot,
    PayFigure,
    RelationKind,
    Role,
    RoleAlias,
    RoleRelation,
    Skill,
    SkillAlias,
    SkillFigure,
)
from db.names import normalize_name, slugify
from db.skill_graph import add_parent_links


class StoreOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"  # the same facts (or, when not replacing, the same snapshot) stored
    REPLACED = "replaced"  # same role, region, source and period, corrected figures


@dataclass(frozen=True)
class StoreResult:
    snapshot_id: int
    outcome: StoreOutcome
    role_title: str
    period_label: str


async def store_documents(
    engine: AsyncEngine, documents: Sequence[SnapshotDocument], *, replace_existing: bool = True
) -> list[StoreResult]:
    """Store every document, or (on any error) none of them."""
    async with transaction(engine) as session:
        return [
            await store_snapshot(session, document, replace_existing=replace_existing)
            for document in documents
        ]


async def store_snapshot(
    session: AsyncSession, document: SnapshotDocument, *, replace_existing: bool = True
) -> StoreResult:
    """Store one snapshot; one with the same identity is replaced only if `replace_existing`."""
    role = await _upsert_role(session, document)
    assert role.id is not None
    checksum = document.checksum()
    existing = (
        await session.exec(
            select(MarketSnapshot).where(
                MarketSnapshot.team_id == document.team_id,
                MarketSnapshot.role_id == role.id,
                MarketSnapshot.region == document.region,
                MarketSnapshot.source == document.source,
                MarketSnapshot.period_start == document.period_start,
                MarketSnapshot.period_end == document.period_end,
            )
        )
    ).first()
    outcome = StoreOutcome.CREATED
    if existing is not None:
        assert existing.id is not None
        if existing.checksum == checksum or not replace_existing:
            return StoreResult(
                existing.id, StoreOutcome.UNCHANGED, role.title, existing.period_label
            )
        await session.execute(delete(PayFigure).where(col(PayFigure.snapshot_id) == existing.id))
        await session.execute(
            delete(SkillFigure).where(col(SkillFigure.snapshot_id) == existing.id)
        )
        await session.delete(existing)
        await session.flush()
        outcome = StoreOutcome.REPLACED

    snapshot = MarketSnapshot(
        team_id=document.team_id,
        role_id=role.id,
        region=document.region,
        published_on=document.published_on,
        period_label=document.period_label,
        period_start=document.period_start,
        period_end=document.period_end,
        source=document.source,
        source_kind=document.source_kind,
        checksum=checksum,
        imported_at=datetime.now(UTC),
        sample_size=document.sample_size,
        supply_sample_size=document.supply_sample_size,
    )
    session.add(snapshot)
    await session.flush()
    assert snapshot.id is not None
    for pay in document.pay:
        session.add(
            PayFigure(
                snapshot_id=snapshot.id,
                kind=pay.kind,
                region=pay.region,
                median=pay.median,
                low=pay.low,
                high=pay.high,
                p10=pay.p10,
                p25=pay.p25,
                p75=pay.p75,
                p90=pay.p90,
                sample_size=pay.sample_size,
            )
        )
    for skill_document in document.skills:
        skill = await upsert_skill(session, skill_document.name, skill_document.aliases)
        assert skill.id is not None
        await _store_members(session, skill, skill_document.members)
        session.add(
            SkillFigure(
                snapshot_id=snapshot.id,
                skill_id=skill.id,
                demand_pct=skill_document.demand_pct,
                supply_pct=skill_document.supply_pct,
                demand_low_pct=skill_document.demand_low_pct,
                demand_high_pct=skill_document.demand_high_pct,
                is_essential=skill_document.is_essential,
                is_emerging=skill_document.is_emerging,
                is_gap=skill_document.is_gap,
                rank=skill_document.rank,
                sample_size=skill_document.sample_size,
                note=skill_document.note,
            )
        )
    await session.flush()
    return StoreResult(snapshot.id, outcome, role.title, document.period_label)


async def _store_members(session: AsyncSession, family: Skill, members: Sequence[str]) -> None:
    """The examples a source gives of a family become skills in that family."""
    links = []
    for member_name in members:
        member = await upsert_skill(session, member_name)
        if member.id is not None and member.id != family.id:
            assert family.id is not None
            links.append((member.id, family.id))
    if links:
        await add_parent_links(session, links, as_examples=True)


async def find_role(session: AsyncSession, name: str) -> Role | None:
    """A role by exact slug or known alias (no fuzzy matching: imports never guess)."""
    role = (await session.exec(select(Role).where(Role.slug == slugify(name)))).first()
    if role is not None:
        return role
    alias = (
        await session.exec(select(RoleAlias).where(RoleAlias.normalized == normalize_name(name)))
    ).first()
    return None if alias is None else await session.get(Role, alias.role_id)


async def find_skill(session: AsyncSession, name: str) -> Skill | None:
    """A skill by exact slug or known alias (no fuzzy matching: imports never guess)."""
    skill = (await session.exec(select(Skill).where(Skill.slug == slugify(name)))).first()
    if skill is not None:
        return skill
    alias = (
        await session.exec(select(SkillAlias).where(SkillAlias.normalized == normalize_name(name)))
    ).first()
    return None if alias is None else await session.get(Skill, alias.skill_id)


async def upsert_skill(session: AsyncSession, name: str, aliases: Sequence[str] = ()) -> Skill:
    """The skill this name denotes, created when new; new aliases are attached to it."""
    skill = await find_skill(session, name)
    if skill is None:
        skill = Skill(slug=slugify(name), name=name)
        session.add(skill)
        await session.flush()
    assert skill.id is not None
    for alias in (name, *aliases):
        await _attach_alias(session, SkillAlias, skill.id, alias)
    return skill


async def _attach_alias(
    session: AsyncSession, table: type[SkillAlias] | type[RoleAlias], owner_id: int, alias: str
) -> None:
    normalized = normalize_name(alias)
    if not normalized:
        return
    # An alias already owned by something else stays where it is: first claim wins.
    taken = (await session.exec(select(table).where(table.normalized == normalized))).first()
    if taken is not None:
        return
    if table is SkillAlias:
        session.add(SkillAlias(skill_id=owner_id, alias=alias, normalized=normalized))
    else:
        session.add(RoleAlias(role_id=owner_id, alias=alias, normalized=normalized))
    await session.flush()


async def _upsert_role(session: AsyncSession, document: SnapshotDocument) -> Role:
    described = document.role
    role = await find_role(session, described.title)
    if role is None:
        role = Role(slug=described.slug, title=described.title)
        session.add(role)
        await session.flush()
    assert role.id is not None
    for alias in (described.title, *described.aliases):
        await _attach_alias(session, RoleAlias, role.id, alias)

    # Descriptive fields follow the newest snapshot of the role; an older import keeps them.
    newest = (
        await session.exec(
            select(col(MarketSnapshot.published_on))
            .where(MarketSnapshot.role_id == role.id)
            .order_by(col(MarketSnapshot.published_on).desc())
        )
    ).first()
    if newest is None or document.published_on >= newest:
        role.summary = described.summary or role.summary
        if described.typical_tenure_months is not None:
            role.typical_tenure_months = described.typical_tenure_months
        if described.entry_routes:
            role.entry_routes = "\n".join(described.entry_routes)
        await _replace_relations(session, role.id, RelationKind.PROGRESSION, described.progression)
        await _replace_relations(session, role.id, RelationKind.LATERAL, described.lateral_moves)
        session.add(role)
        await session.flush()
    return role


async def _replace_relations(
    session: AsyncSession, role_id: int, kind: RelationKind, titles: Sequence[str]
) -> None:
    """Make the role's steps of `kind` read `titles`; rows already saying so are left alone.

    Every start loads the bundled data, so rewriting unchanged rows would make even a
    read-only command write to the store.
    """
    if not titles:
        return
    wanted = []
    for position, title in enumerate(titles, start=1):
        related = await find_role(session, title)
        wanted.append((position, title, None if related is None else related.id))
    stored = (
        await session.exec(
            select(RoleRelation)
            .where(RoleRelation.role_id == role_id, RoleRelation.kind == kind)
            .order_by(col(RoleRelation.position))
        )
    ).all()
    if [(row.position, row.title, row.related_role_id) for row in stored] == wanted:
        return
    await session.execute(
        delete(RoleRelation).where(
            col(RoleRelation.role_id) == role_id, col(RoleRelation.kind) == kind
        )
    )
    for position, title, related_role_id in wanted:
        session.add(
            RoleRelation(
                role_id=role_id,
                kind=kind,
                position=position,
                title=title,
                related_role_id=related_role_id,
            )
        )
    await session.flush()

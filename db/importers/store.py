"""Report imports into the store: their roles described, their snapshots written in one
transaction (all of them, or none) through the one snapshot writer (db/snapshots.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.engine import transaction
from db.importers.document import SnapshotDocument
from db.models import (
    MarketSnapshot,
    RelationKind,
    Role,
    RoleAlias,
    RoleRelation,
)
from db.snapshots import (
    SnapshotToStore,
    StoreResult,
    attach_alias,
    find_role,
    write_snapshots,
)


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
    """Store one snapshot; one with the same identity is replaced only if `replace_existing`.
    The role is created or updated from the document first (its description, ladder and
    moves follow the newest snapshot); the snapshot itself goes through the one writer."""
    role = await _upsert_role(session, document)
    assert role.id is not None
    [result] = await write_snapshots(
        session,
        [SnapshotToStore(document)],
        role_ids={document.role.title: role.id},
        replace_existing=replace_existing,
    )
    return replace(result, role_title=role.title)


async def _upsert_role(session: AsyncSession, document: SnapshotDocument) -> Role:
    described = document.role
    role = await find_role(session, described.title)
    if role is None:
        role = Role(slug=described.slug, title=described.title)
        session.add(role)
        await session.flush()
    assert role.id is not None
    for alias in (described.title, *described.aliases):
        await attach_alias(session, RoleAlias, role.id, alias)

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

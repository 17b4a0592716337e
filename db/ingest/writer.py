"""Writes computed snapshots and the taxonomy into the store in bulk, in the caller's transaction.

Snapshots follow the store writer's rules (db/importers/store.py): one snapshot per team,
role, region, source and period; the same facts again leave it unchanged, different facts
replace it. Computed data comes in hundreds of snapshots with dozens of skills each, so rows
are inserted in batches rather than one ORM object at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain, repeat
from typing import NamedTuple

import aiosqlite
from sqlalchemy import Table, delete, insert, update
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.importers.store import StoreOutcome, StoreResult, find_role
from db.ingest.aggregate import ComputedSnapshot
from db.ingest.taxonomy import Taxonomy
from db.ingest_models import SkillCooccurrence
from db.models import (
    MarketSnapshot,
    PayFigure,
    Role,
    RoleAlias,
    Skill,
    SkillAlias,
    SkillFigure,
)
from db.names import normalize_name
from db.skill_graph import add_parent_links

_BATCH = 2_000
# Parameters one SQLite statement may hold in any build (SQLITE_MAX_VARIABLE_NUMBER was 999
# before SQLite 3.32).
_SQLITE_MAX_PARAMETERS = 999


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
                    update(_table(SkillAlias))
                    .where(_table(SkillAlias).c.normalized == normalized)
                    .values(skill_id=skill_id)
                )
    for start in range(0, len(new_aliases), _BATCH):
        await session.execute(insert(_table(SkillAlias)), new_aliases[start : start + _BATCH])
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


class _Stored(NamedTuple):
    id: int
    checksum: str
    period_label: str


_SnapshotKey = tuple[str, int, str, str, date, date]  # team, role id, region, source, period


async def write_snapshots(
    session: AsyncSession,
    computed: Sequence[ComputedSnapshot],
    skill_ids: dict[str, int],
    role_aliases: dict[str, tuple[str, ...]] | None = None,
    role_ids: dict[str, int] | None = None,
) -> list[StoreResult]:
    """Store each computed snapshot: created, replaced when its figures changed, else kept."""
    if not computed:
        return []
    # Role title -> id; a caller writing in several calls passes the same dict along.
    role_ids = {} if role_ids is None else role_ids
    for item in computed:
        title = item.document.role.title
        if title not in role_ids:
            aliases = (role_aliases or {}).get(title, ())
            role_ids[title] = await _role_id(session, title, item.document.role.slug, aliases)
    existing = await _stored_snapshots(session, computed, role_ids)
    results: list[StoreResult | None] = []
    to_insert: list[tuple[int, ComputedSnapshot, _SnapshotKey, str, StoreOutcome]] = []
    replaced_ids: list[int] = []
    for index, item in enumerate(computed):
        document = item.document
        role_id = role_ids[document.role.title]
        checksum = document.checksum()
        key = (
            document.team_id,
            role_id,
            document.region,
            document.source,
            document.period_start,
            document.period_end,
        )
        old = existing.get(key)
        if old is not None and old.checksum == checksum:
            results.append(
                StoreResult(old.id, StoreOutcome.UNCHANGED, document.role.title, old.period_label)
            )
            continue
        outcome = StoreOutcome.CREATED
        if old is not None:
            replaced_ids.append(old.id)
            outcome = StoreOutcome.REPLACED
        results.append(None)
        to_insert.append((index, item, key, checksum, outcome))
    for start in range(0, len(replaced_ids), 500):
        chunk = replaced_ids[start : start + 500]
        # Children first: the figures would cascade, but not every backend cascades the same.
        for table in (SkillCooccurrence, PayFigure, SkillFigure):
            await session.execute(delete(table).where(col(table.snapshot_id).in_(chunk)))
        await session.execute(delete(MarketSnapshot).where(col(MarketSnapshot.id).in_(chunk)))
    now = datetime.now(UTC)
    snapshot_rows = []
    for _, item, _, checksum, _ in to_insert:
        document = item.document
        snapshot_rows.append(
            {
                "team_id": document.team_id,
                "role_id": role_ids[document.role.title],
                "region": document.region,
                "published_on": document.published_on,
                "period_label": document.period_label,
                "period_start": document.period_start,
                "period_end": document.period_end,
                "source": document.source,
                "source_kind": document.source_kind,
                "checksum": checksum,
                "imported_at": now,
                "sample_size": document.sample_size,
                "supply_sample_size": document.supply_sample_size,
            }
        )
    stored_ids: dict[_SnapshotKey, int] = {}
    snapshots = _table(MarketSnapshot).c
    for start in range(0, len(snapshot_rows), _BATCH):
        # Many snapshots per statement. Their rows may come back in any order (asking for
        # the rows' order made SQLite insert one snapshot per statement), so each new id is
        # matched to its snapshot by identity.
        stored = await session.execute(
            insert(_table(MarketSnapshot)).returning(
                snapshots.team_id,
                snapshots.role_id,
                snapshots.region,
                snapshots.source,
                snapshots.period_start,
                snapshots.period_end,
                snapshots.id,
            ),
            snapshot_rows[start : start + _BATCH],
        )
        for team, role, region, source, period_start, period_end, id_ in stored:
            stored_ids[team, role, region, source, period_start, period_end] = id_
    pay_rows: list[tuple[object, ...]] = []
    skill_rows: list[tuple[object, ...]] = []
    pair_rows: list[tuple[object, ...]] = []
    for index, item, key, _, outcome in to_insert:
        document = item.document
        snapshot_id = stored_ids[key]
        results[index] = StoreResult(
            snapshot_id, outcome, document.role.title, document.period_label
        )
        for pay in document.pay:
            pay_rows.append(
                (
                    snapshot_id,
                    pay.kind.value,
                    pay.region,
                    pay.median,
                    pay.low,
                    pay.high,
                    pay.p10,
                    pay.p25,
                    pay.p75,
                    pay.p90,
                    pay.sample_size,
                )
            )
        for skill in document.skills:
            skill_rows.append(
                (
                    snapshot_id,
                    skill_ids[skill.name],
                    skill.demand_pct,
                    skill.supply_pct,
                    skill.demand_low_pct,
                    skill.demand_high_pct,
                    skill.is_essential,
                    skill.is_emerging,
                    skill.is_gap,
                    skill.rank,
                    skill.sample_size,
                    skill.note,
                )
            )
        pairs = item.cooccurrences
        pair_rows.extend(
            zip(
                repeat(snapshot_id, len(pairs)),
                map(skill_ids.__getitem__, pairs.skills),
                map(skill_ids.__getitem__, pairs.others),
                pairs.ads,
                pairs.share_pcts,
                strict=True,
            )
        )
    await _insert_plain(session, PayFigure, _PAY_FIGURE_COLUMNS, pay_rows)
    await _insert_plain(session, SkillFigure, _SKILL_FIGURE_COLUMNS, skill_rows)
    await _insert_plain(session, SkillCooccurrence, _PAIR_COLUMNS, pair_rows)
    return [result for result in results if result is not None]


async def _stored_snapshots(
    session: AsyncSession, computed: Sequence[ComputedSnapshot], role_ids: dict[str, int]
) -> dict[_SnapshotKey, _Stored]:
    """The stored snapshots these computed ones may replace, by their identity. Plain rows
    of the columns needed, of these roles only: earlier writes of the same weeks for other
    roles would otherwise be read again, as ORM objects, on every call."""
    table = _table(MarketSnapshot).c
    documents = [item.document for item in computed]
    rows = await session.execute(
        sql_select(
            table.team_id,
            table.role_id,
            table.region,
            table.source,
            table.period_start,
            table.period_end,
            table.id,
            table.checksum,
            table.period_label,
        ).where(
            table.team_id.in_({d.team_id for d in documents}),
            table.role_id.in_({role_ids[d.role.title] for d in documents}),
            table.region.in_({d.region for d in documents}),
            table.source.in_({d.source for d in documents}),
            table.period_start.in_({d.period_start for d in documents}),
        )
    )
    return {
        (team, role, region, source, start, end): _Stored(id_, checksum, label)
        for team, role, region, source, start, end, id_, checksum, label in rows
    }


_PAY_FIGURE_COLUMNS = (
    "snapshot_id",
    "kind",
    "region",
    "median",
    "low",
    "high",
    "p10",
    "p25",
    "p75",
    "p90",
    "sample_size",
)
_SKILL_FIGURE_COLUMNS = (
    "snapshot_id",
    "skill_id",
    "demand_pct",
    "supply_pct",
    "demand_low_pct",
    "demand_high_pct",
    "is_essential",
    "is_emerging",
    "is_gap",
    "rank",
    "sample_size",
    "note",
)
_PAIR_COLUMNS = ("snapshot_id", "skill_id", "other_skill_id", "ads", "share_pct")


async def _insert_plain(
    session: AsyncSession, model: type, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> None:
    """Rows of plain numbers, booleans and text: on SQLite straight through the driver (tens
    of thousands of figures; the ORM's per-row work would dominate), else a Core executemany."""
    if not rows:
        return
    table = _table(model)
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        await _insert_sqlite(driver, table.name, columns, rows)
        return
    for start in range(0, len(rows), _BATCH):
        part = [dict(zip(columns, row, strict=True)) for row in rows[start : start + _BATCH]]
        await session.execute(insert(table), part)


async def _insert_sqlite(
    driver: aiosqlite.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
) -> None:
    """Many rows per statement: SQLite stores them in about half the time of one at a time."""
    per_statement = max(1, _SQLITE_MAX_PARAMETERS // len(columns))
    whole = len(rows) - len(rows) % per_statement
    if whole:
        await driver.executemany(
            _insert_sql(table, columns, per_statement),
            [
                _flat(rows[start : start + per_statement])
                for start in range(0, whole, per_statement)
            ],
        )
    if whole < len(rows):
        await driver.execute(_insert_sql(table, columns, len(rows) - whole), _flat(rows[whole:]))


def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    values = f"({', '.join('?' * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([values] * rows)}"


def _flat(rows: list[tuple[object, ...]]) -> tuple[object, ...]:
    return tuple(chain.from_iterable(rows))


def _table(model: type) -> Table:
    """The Core table of a model: plain executemany, none of the ORM's per-row bookkeeping."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


async def _role_id(
    session: AsyncSession, title: str, slug: str, aliases: Sequence[str] = ()
) -> int:
    role = await find_role(session, title)
    if role is not None:
        assert role.id is not None
        return role.id
    role = Role(slug=slug, title=title)
    session.add(role)
    await session.flush()
    assert role.id is not None
    for alias in dict.fromkeys((title, *aliases)):
        normalized = normalize_name(alias)
        taken = (
            await session.exec(select(RoleAlias).where(RoleAlias.normalized == normalized))
        ).first()
        if normalized and taken is None:
            session.add(RoleAlias(role_id=role.id, alias=alias, normalized=normalized))
            await session.flush()
    return role.id

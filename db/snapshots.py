"""The one snapshot writer: report imports and ingestion both store snapshots through it.

Its rule: one snapshot per team, role, region, source and period; the same facts again (by
checksum) leave it unchanged, different facts replace it (unless the caller keeps what is
stored). Rows go in in bulk: computed data comes in hundreds of snapshots with dozens of
skills each, so figures are inserted in batches rather than one ORM object at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import chain, repeat
from typing import NamedTuple

import aiosqlite
from sqlalchemy import Table, delete, insert
from sqlalchemy import select as sql_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.importers.document import SnapshotDocument
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
from db.names import normalize_name, slugify
from db.skill_graph import add_parent_links

_BATCH = 2_000
# Parameters one SQLite statement may hold in any build (SQLITE_MAX_VARIABLE_NUMBER was 999
# before SQLite 3.32).
_SQLITE_MAX_PARAMETERS = 999


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


@dataclass(frozen=True)
class Cooccurrences:
    """Skills asked for together in a snapshot's ads, column by column: one pair per index
    (a snapshot has hundreds; columns are built and stored without an object per pair)."""

    skills: Sequence[str]  # skill name
    others: Sequence[str]  # name of a skill asked for alongside it
    ads: Sequence[int]  # ads mentioning both
    share_pcts: Sequence[float]  # of the ads asking for the skill, the share also asking for other

    def __len__(self) -> int:
        return len(self.ads)


NO_COOCCURRENCES = Cooccurrences((), (), (), ())


@dataclass(frozen=True)
class SnapshotToStore:
    """A snapshot document to store, with the skills its ads ask for together (if from ads)."""

    document: SnapshotDocument
    cooccurrences: Cooccurrences = NO_COOCCURRENCES


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
        await attach_alias(session, SkillAlias, skill.id, alias)
    return skill


async def attach_alias(
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


class _Stored(NamedTuple):
    id: int
    checksum: str
    period_label: str


_SnapshotKey = tuple[str, int, str, str, date, date]  # team, role id, region, source, period


async def write_snapshots(
    session: AsyncSession,
    computed: Sequence[SnapshotToStore],
    skill_ids: dict[str, int] | None = None,
    role_aliases: dict[str, tuple[str, ...]] | None = None,
    role_ids: dict[str, int] | None = None,
    *,
    replace_existing: bool = True,
) -> list[StoreResult]:
    """Store each snapshot: created, replaced when its figures changed (and
    `replace_existing`), else kept. `skill_ids` maps skill names to ids (a synced taxonomy);
    without it the skills of the snapshots written are found or created by name and alias."""
    if not computed:
        return []
    # Role title -> id; a caller writing in several calls passes the same dict along.
    role_ids = {} if role_ids is None else role_ids
    for item in computed:
        title = item.document.role.title
        if title not in role_ids:
            aliases = (role_aliases or {}).get(title, ())
            role_ids[title] = await find_or_create_role(
                session, title, item.document.role.slug, aliases
            )
    existing = await _stored_snapshots(session, computed, role_ids)
    results: list[StoreResult | None] = []
    to_insert: list[tuple[int, SnapshotToStore, _SnapshotKey, str, StoreOutcome]] = []
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
        if old is not None and (old.checksum == checksum or not replace_existing):
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
    if skill_ids is None:
        skill_ids = await _skill_ids(session, [item.document for _, item, *_ in to_insert])
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
                    pay.qualifier,
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


async def _skill_ids(
    session: AsyncSession, documents: Sequence[SnapshotDocument]
) -> dict[str, int]:
    """Each skill the documents name, by that name: found by slug or alias, else created,
    with the documents' aliases attached (first claim wins) and its examples as members."""
    ids: dict[str, int] = {}
    for document in documents:
        for skill_document in document.skills:
            skill = await upsert_skill(session, skill_document.name, skill_document.aliases)
            assert skill.id is not None
            ids[skill_document.name] = skill.id
            await _store_members(session, skill.id, skill_document.members)
    return ids


async def _store_members(session: AsyncSession, family_id: int, members: Sequence[str]) -> None:
    """The examples a source gives of a family ("AWS/GCP/Azure") become skills in it."""
    links = []
    for member_name in members:
        member = await upsert_skill(session, member_name)
        if member.id is not None and member.id != family_id:
            links.append((member.id, family_id))
    if links:
        await add_parent_links(session, links, as_examples=True)


async def _stored_snapshots(
    session: AsyncSession, computed: Sequence[SnapshotToStore], role_ids: dict[str, int]
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
    "qualifier",
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
    try:
        if whole:
            await driver.executemany(
                _insert_sql(table, columns, per_statement),
                [
                    _flat(rows[start : start + per_statement])
                    for start in range(0, whole, per_statement)
                ],
            )
        if whole < len(rows):
            sql = _insert_sql(table, columns, len(rows) - whole)
            await driver.execute(sql, _flat(rows[whole:]))
    except sqlite3.Error as error:
        # Straight through the driver, but callers get SQLAlchemy's errors as from any other
        # statement (a clash is an IntegrityError, whichever way the rows went in).
        raise DBAPIError.instance(f"INSERT INTO {table}", None, error, sqlite3.Error) from error


def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    values = f"({', '.join('?' * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([values] * rows)}"


def _flat(rows: list[tuple[object, ...]]) -> tuple[object, ...]:
    return tuple(chain.from_iterable(rows))


def _table(model: type) -> Table:
    """The Core table of a model: plain executemany, none of the ORM's per-row bookkeeping."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


async def find_or_create_role(
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
        await attach_alias(session, RoleAlias, role.id, alias)
    return role.id

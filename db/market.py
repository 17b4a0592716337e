"""The market read model: plain typed answers about roles, skills and snapshots (no SQL leaks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.constants import Region
from db.cooccurrence import cooccurring_skills
from db.engine import session_factory
from db.market_comparison import SnapshotComparison, compare_stats
from db.market_figures import (
    AskedTogether,
    RolePath,
    RoleStats,
    RoleSummary,
    SkillAcrossMarket,
    SkillObservation,
    SnapshotInfo,
)
from db.market_precedence import blend_stats
from db.market_rows import (
    answers_team,
    candidate_snapshots,
    newest_published,
    role_by_slug,
    role_summary,
    skill_stat,
    snapshot_info,
    stats_for,
    visible_snapshots,
)
from db.models import (
    PUBLIC_TEAM,
    MarketSnapshot,
    RelationKind,
    Role,
    RoleAlias,
    RoleRelation,
    Skill,
    SkillAlias,
    SkillFigure,
    SnapshotAudit,
    SourceKind,
)
from db.names import slugify
from db.resolve import Candidate, NameIndex, Resolution
from db.skill_graph import SkillGraph, load_skill_graph
from db.taxonomy import load_taxonomy


@dataclass
class _Cache:
    """Answers kept until the store's data changes (checked at most every few seconds)."""

    version: tuple[Any, ...] | None = None
    checked_at: float = 0.0
    entries: dict[tuple[Any, ...], Any] = field(default_factory=dict)


class MarketReader:
    """Read-only questions about the market, answered from the store.

    Every method takes the asking workspace's `team_id`: public data (published reports) is
    visible to all, a team's own computed data only to that team.
    """

    def __init__(self, engine: AsyncEngine, *, recheck_seconds: float = 5.0) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._recheck_seconds = recheck_seconds
        self._cache = _Cache()
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget cached answers (call after this process writes to the store)."""
        self._cache = _Cache()

    async def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        await self._check_version()
        if key in self._cache.entries:
            return self._cache.entries[key]
        value = await compute()
        self._cache.entries[key] = value
        return value

    async def data_version(self) -> tuple[Any, ...] | None:
        """A token that changes whenever the store's market data does (any import or ingest),
        rechecked at most every `recheck_seconds`: what is built from the data stays good while
        it is unchanged."""
        await self._check_version()
        return self._cache.version

    async def _check_version(self) -> None:
        now = time.monotonic()
        if self._cache.version is not None and now - self._cache.checked_at < self._recheck_seconds:
            return
        async with self._lock:
            if (
                self._cache.version is not None
                and now - self._cache.checked_at < self._recheck_seconds
            ):
                return
            async with self._sessions() as session:
                # Any import adds or replaces snapshots or aliases, so these change with it.
                version_query = sql_select(
                    func.count(col(MarketSnapshot.id)),
                    func.max(col(MarketSnapshot.id)),
                    func.max(col(MarketSnapshot.imported_at)),
                    select(func.count(col(SkillAlias.id))).scalar_subquery(),
                    select(func.count(col(RoleAlias.id))).scalar_subquery(),
                    # Withdrawals and restorations change no row count, but are each audited.
                    select(func.count(col(SnapshotAudit.id))).scalar_subquery(),
                )
                version = tuple((await session.execute(version_query)).one())
            if version != self._cache.version:
                self._cache = _Cache(version=version)
            self._cache.checked_at = now

    # Roles ---------------------------------------------------------------------------

    async def list_roles(self, team_id: str = PUBLIC_TEAM) -> list[RoleSummary]:
        """Every role with at least one snapshot visible to the team, by title."""

        async def compute() -> list[RoleSummary]:
            async with self._sessions() as session:
                roles = (await session.exec(select(Role).order_by(col(Role.title)))).all()
                summaries = []
                for role in roles:
                    latest = await self._latest_snapshot(
                        session, role, team_id, Region.UK, None, None
                    )
                    if latest is not None:
                        summaries.append(role_summary(role, snapshot_info(latest, role)))
                return summaries

        result: list[RoleSummary] = await self._cached(("roles", team_id), compute)
        return result

    async def role_stats(
        self,
        role_slug: str,
        team_id: str = PUBLIC_TEAM,
        *,
        region: str = Region.UK,
        as_of: date | None = None,
        source: str | None = None,
    ) -> RoleStats | None:
        """The role's figures (on or before `as_of`), or None when no snapshot has any.

        Each figure comes from the freshest series with a sound sample for it
        (db/market_precedence.py, by the rule of db/sources.py).
        """

        async def compute() -> RoleStats | None:
            async with self._sessions() as session:
                role = await role_by_slug(session, role_slug)
                if role is None:
                    return None
                snapshots = await candidate_snapshots(session, role, team_id, region, as_of, source)
                if not snapshots:
                    return None
                candidates = [await stats_for(session, role, s) for s in snapshots]
                return blend_stats(candidates)

        result: RoleStats | None = await self._cached(
            ("stats", role_slug, team_id, region, as_of, source), compute
        )
        return result

    async def stats_for_snapshot(
        self, snapshot_id: int, team_id: str = PUBLIC_TEAM
    ) -> RoleStats | None:
        async with self._sessions() as session:
            snapshot = await session.get(MarketSnapshot, snapshot_id)
            if snapshot is None or not answers_team(snapshot, team_id):
                return None
            role = await session.get(Role, snapshot.role_id)
            assert role is not None
            return await stats_for(session, role, snapshot)

    async def role_path(self, role_slug: str) -> RolePath | None:
        """Progression ladder, lateral moves, entry routes and tenure of a role."""

        async def compute() -> RolePath | None:
            async with self._sessions() as session:
                role = await role_by_slug(session, role_slug)
                if role is None:
                    return None
                relations = (
                    await session.exec(
                        select(RoleRelation)
                        .where(RoleRelation.role_id == role.id)
                        .order_by(col(RoleRelation.kind), col(RoleRelation.position))
                    )
                ).all()
                return RolePath(
                    role_title=role.title,
                    ladder=tuple(r.title for r in relations if r.kind == RelationKind.PROGRESSION),
                    lateral_moves=tuple(
                        r.title for r in relations if r.kind == RelationKind.LATERAL
                    ),
                    entry_routes=tuple(
                        line for line in role.entry_routes.splitlines() if line.strip()
                    ),
                    typical_tenure_months=role.typical_tenure_months,
                    source=await newest_published(session, role),
                )

        result: RolePath | None = await self._cached(("path", role_slug), compute)
        return result

    async def snapshots(
        self, role_slug: str | None = None, team_id: str = PUBLIC_TEAM
    ) -> list[SnapshotInfo]:
        """Snapshots visible to the team, newest first."""
        async with self._sessions() as session:
            query = (
                select(MarketSnapshot, Role)
                .join(Role, col(Role.id) == col(MarketSnapshot.role_id))
                .where(col(MarketSnapshot.team_id).in_([PUBLIC_TEAM, team_id]))
                .where(col(MarketSnapshot.withdrawn_at).is_(None))
                .order_by(col(MarketSnapshot.period_end).desc(), col(MarketSnapshot.id).desc())
            )
            if role_slug is not None:
                query = query.where(Role.slug == role_slug)
            rows = (await session.exec(query)).all()
            return [snapshot_info(snapshot, role) for snapshot, role in rows]

    # Skills --------------------------------------------------------------------------

    async def skill_across(
        self, skill_slug: str, team_id: str = PUBLIC_TEAM
    ) -> SkillAcrossMarket | None:
        """One skill's figures across roles and snapshots, newest first."""

        async def compute() -> SkillAcrossMarket | None:
            async with self._sessions() as session:
                skill = (await session.exec(select(Skill).where(Skill.slug == skill_slug))).first()
                if skill is None:
                    return None
                rows = (
                    await session.exec(
                        select(SkillFigure, MarketSnapshot, Role)
                        .join(
                            MarketSnapshot, col(MarketSnapshot.id) == col(SkillFigure.snapshot_id)
                        )
                        .join(Role, col(Role.id) == col(MarketSnapshot.role_id))
                        .where(
                            SkillFigure.skill_id == skill.id,
                            col(MarketSnapshot.team_id).in_([PUBLIC_TEAM, team_id]),
                            col(MarketSnapshot.withdrawn_at).is_(None),
                        )
                        .order_by(
                            col(MarketSnapshot.period_end).desc(),
                            col(Role.title),
                            col(MarketSnapshot.region),
                        )
                    )
                ).all()
                observations = tuple(
                    SkillObservation(snapshot_info(snapshot, role), skill_stat(figure, skill))
                    for figure, snapshot, role in rows
                )
                return SkillAcrossMarket(skill.name, skill.slug, observations)

        result: SkillAcrossMarket | None = await self._cached(
            ("skill", skill_slug, team_id), compute
        )
        return result

    async def asked_together(
        self, skill_slug: str, team_id: str = PUBLIC_TEAM, *, limit: int = 5
    ) -> AskedTogether | None:
        """Skills job ads most often ask for alongside this one, from the newest job-ad
        snapshot that mentions it; None when only published reports mention it."""
        across = await self.skill_across(skill_slug, team_id)
        if across is None:
            return None
        from_ads = [o for o in across.observations if o.snapshot.source_kind is SourceKind.JOB_ADS]
        if not from_ads:
            return None
        # Newest first; between equals, the wider (rolling) window, which has the larger base.
        newest = min(
            from_ads, key=lambda o: (-o.snapshot.period_end.toordinal(), o.snapshot.period_start)
        ).snapshot
        partners = await cooccurring_skills(self._engine, newest.id, team_id, skill_slug)
        # A skill's own families and members go with it by definition (every RAG ad counts
        # for LLMs): only other skills say something about what is asked for alongside.
        kin = (await self.skill_graph()).relatives(skill_slug)
        partners = [p for p in partners if p.other_slug not in kin]
        return AskedTogether(newest, tuple(partners[:limit]))

    # Changes -------------------------------------------------------------------------

    async def compare(
        self,
        role_slug: str,
        team_id: str = PUBLIC_TEAM,
        *,
        region: str = Region.UK,
        source: str | None = None,
        older_id: int | None = None,
        newer_id: int | None = None,
    ) -> SnapshotComparison | None:
        """Changes between two snapshots of one series (source, window, owner) and region.

        By default the newest snapshot against the one before it in the same series; None
        when there is no earlier snapshot to compare with, or when the two given snapshots
        belong to different series.
        """
        async with self._sessions() as session:
            role = await role_by_slug(session, role_slug)
            if role is None:
                return None
            newer = (
                await session.get(MarketSnapshot, newer_id)
                if newer_id is not None
                else await self._latest_snapshot(session, role, team_id, region, None, source)
            )
            if newer is None or not answers_team(newer, team_id):
                return None
            if older_id is not None:
                older = await session.get(MarketSnapshot, older_id)
            else:
                earlier = (
                    await session.exec(
                        select(MarketSnapshot)
                        .where(
                            MarketSnapshot.role_id == newer.role_id,
                            MarketSnapshot.team_id == newer.team_id,
                            col(MarketSnapshot.withdrawn_at).is_(None),
                            MarketSnapshot.region == newer.region,
                            MarketSnapshot.source == newer.source,
                            col(MarketSnapshot.period_end) < newer.period_end,
                        )
                        .order_by(col(MarketSnapshot.period_end).desc())
                    )
                ).all()
                series = snapshot_info(newer, role).series
                older = next((s for s in earlier if snapshot_info(s, role).series == series), None)
            if older is None or not answers_team(older, team_id):
                return None
            if older.role_id != role.id or newer.role_id != role.id:
                return None
            # Different sources, windows or owners measure different things: never compared.
            if snapshot_info(older, role).series != snapshot_info(newer, role).series:
                return None
            old_stats = await stats_for(session, role, older)
            new_stats = await stats_for(session, role, newer)
        return compare_stats(old_stats, new_stats)

    # Names ---------------------------------------------------------------------------

    async def resolve_role(self, text: str) -> Resolution:
        return (await self._index("roles")).resolve(text)

    async def resolve_skill(self, text: str) -> Resolution:
        return (await self._index("skills")).resolve(text)

    async def skill_graph(self) -> SkillGraph:
        """Which skills are families of which: the same for every team."""

        async def compute() -> SkillGraph:
            async with self._sessions() as session:
                return await load_skill_graph(session)

        return await self._cached(("skill_graph",), compute)

    async def skill_index(self) -> NameIndex:
        return await self._index("skills")

    async def role_index(self) -> NameIndex:
        return await self._index("roles")

    async def _index(self, kind: str) -> NameIndex:
        async def compute() -> NameIndex:
            async with self._sessions() as session:
                if kind == "roles":
                    role_rows = (await session.exec(select(Role))).all()
                    role_aliases = (await session.exec(select(RoleAlias))).all()
                    return _index_of(
                        [(r.id, r.slug, r.title) for r in role_rows],
                        [(a.role_id, a.alias) for a in role_aliases],
                        known_elsewhere=_taxonomy_roles(),
                    )
                skill_rows = (await session.exec(select(Skill))).all()
                skill_aliases = (await session.exec(select(SkillAlias))).all()
                return _index_of(
                    [(s.id, s.slug, s.name) for s in skill_rows],
                    [(a.skill_id, a.alias) for a in skill_aliases],
                )

        result: NameIndex = await self._cached(("index", kind), compute)
        return result

    async def _latest_snapshot(
        self,
        session: AsyncSession,
        role: Role,
        team_id: str,
        region: str,
        as_of: date | None,
        source: str | None,
    ) -> MarketSnapshot | None:
        query = visible_snapshots(role, team_id, region, as_of, source)
        # Newest period first; between equals, the team's own data, then the wider window.
        query = query.order_by(
            col(MarketSnapshot.period_end).desc(),
            col(MarketSnapshot.team_id) == PUBLIC_TEAM,
            col(MarketSnapshot.period_start),
            col(MarketSnapshot.id).desc(),
        )
        return (await session.exec(query)).first()


def _index_of(
    owners: Sequence[tuple[int | None, str, str]],
    aliases: Sequence[tuple[int, str]],
    *,
    known_elsewhere: Sequence[tuple[Candidate, tuple[str, ...]]] = (),
) -> NameIndex:
    by_id: dict[int | None, tuple[Candidate, list[str]]] = {
        owner_id: (Candidate(slug, name), []) for owner_id, slug, name in owners
    }
    for owner_id, alias in aliases:
        if owner_id in by_id:
            by_id[owner_id][1].append(alias)
    entries: list[tuple[Candidate, Sequence[str]]] = list(by_id.values())
    stored = {candidate.slug for candidate, _ in entries}
    entries += [(c, names) for c, names in known_elsewhere if c.slug not in stored]
    return NameIndex(entries)


def _taxonomy_roles() -> list[tuple[Candidate, tuple[str, ...]]]:
    """Roles the taxonomy names though the store may hold no figures for them yet: a person
    typing "ml engineer" is told that, not answered with a neighbouring role's figures."""
    return [
        (Candidate(slugify(rule.title), rule.title), rule.aliases) for rule in load_taxonomy().roles
    ]

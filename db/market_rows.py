"""The store's rows as the read model's values: which snapshots a team may see, and one
snapshot's figures as plain typed objects (used by MarketReader in db/market.py)."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from db.constants import Region
from db.market_figures import (
    Pay,
    RoleStats,
    RoleSummary,
    SkillStat,
    SnapshotInfo,
    source_order,
)
from db.market_precedence import pay_order
from db.models import (
    PUBLIC_TEAM,
    MarketSnapshot,
    PayFigure,
    PayKind,
    Role,
    Skill,
    SkillFigure,
    SourceKind,
)
from db.sources import SeriesKey


def visible_snapshots(
    role: Role, team_id: str, region: str, as_of: date | None, source: str | None
) -> SelectOfScalar[MarketSnapshot]:
    """The role's snapshots of one region the team may see (public or its own), starting by
    `as_of` and from `source` when given, leaving out withdrawn ones."""
    query = select(MarketSnapshot).where(
        MarketSnapshot.role_id == role.id,
        MarketSnapshot.region == region,
        col(MarketSnapshot.team_id).in_([PUBLIC_TEAM, team_id]),
        col(MarketSnapshot.withdrawn_at).is_(None),
    )
    if as_of is not None:
        query = query.where(col(MarketSnapshot.period_start) <= as_of)
    if source is not None:
        query = query.where(MarketSnapshot.source == source)
    return query


# Older snapshots of one series looked at for a sound figure when the newest ones are thin.
SNAPSHOTS_PER_SERIES = 6


async def candidate_snapshots(
    session: AsyncSession,
    role: Role,
    team_id: str,
    region: str,
    as_of: date | None,
    source: str | None,
) -> list[MarketSnapshot]:
    """The newest few snapshots of every series visible to the team, newest first."""
    query = visible_snapshots(role, team_id, region, as_of, source).order_by(
        col(MarketSnapshot.period_end).desc(), col(MarketSnapshot.id).desc()
    )
    kept: list[MarketSnapshot] = []
    per_series: dict[SeriesKey, int] = {}
    for snapshot in (await session.exec(query)).all():
        key = snapshot_info(snapshot, role).series
        if per_series.get(key, 0) < SNAPSHOTS_PER_SERIES:
            per_series[key] = per_series.get(key, 0) + 1
            kept.append(snapshot)
    return kept


async def newest_published(session: AsyncSession, role: Role) -> SnapshotInfo | None:
    """The role's newest published snapshot in use: its descriptions (path, tenure, entry
    routes) follow it."""
    newest = (
        await session.exec(
            select(MarketSnapshot)
            .where(
                MarketSnapshot.role_id == role.id,
                MarketSnapshot.team_id == PUBLIC_TEAM,
                col(MarketSnapshot.source_kind) != SourceKind.JOB_ADS.value,
                col(MarketSnapshot.withdrawn_at).is_(None),
            )
            .order_by(col(MarketSnapshot.published_on).desc(), col(MarketSnapshot.id).desc())
        )
    ).first()
    return None if newest is None else snapshot_info(newest, role)


def answers_team(snapshot: MarketSnapshot, team_id: str) -> bool:
    """Visible to the team (public or its own) and not withdrawn by an operator."""
    return snapshot.team_id in (PUBLIC_TEAM, team_id) and snapshot.withdrawn_at is None


async def role_by_slug(session: AsyncSession, slug: str) -> Role | None:
    return (await session.exec(select(Role).where(Role.slug == slug))).first()


async def stats_for(session: AsyncSession, role: Role, snapshot: MarketSnapshot) -> RoleStats:
    pay_rows = list(
        (await session.exec(select(PayFigure).where(PayFigure.snapshot_id == snapshot.id))).all()
    )
    if snapshot.region == Region.UK and not any(row.region == Region.LONDON for row in pay_rows):
        pay_rows += await _london_pay_alongside(session, snapshot)
    skill_rows = (
        await session.exec(
            select(SkillFigure, Skill)
            .join(Skill, col(Skill.id) == col(SkillFigure.skill_id))
            .where(SkillFigure.snapshot_id == snapshot.id)
        )
    ).all()
    info = snapshot_info(snapshot, role)
    pay = tuple(
        sorted(
            (
                Pay(
                    kind=PayKind(row.kind),
                    region=row.region,
                    median=row.median,
                    low=row.low,
                    high=row.high,
                    p10=row.p10,
                    p25=row.p25,
                    p75=row.p75,
                    p90=row.p90,
                    sample_size=row.sample_size,
                    origin=info,
                    qualifier=row.qualifier,
                )
                for row in pay_rows
            ),
            key=lambda p: pay_order((p.kind, p.region)),
        )
    )
    skills = tuple(
        sorted(
            (skill_stat(figure, skill) for figure, skill in skill_rows),
            key=source_order,
        )
    )
    return RoleStats(role_summary(role, info), info, pay, skills)


async def _london_pay_alongside(session: AsyncSession, snapshot: MarketSnapshot) -> list[PayFigure]:
    """London pay from the London snapshot of the same source and period.

    Reports carry London's figures inside the UK snapshot; figures computed from job ads come
    as a separate London snapshot. Either way the UK card shows London beside the UK.
    """
    london = (
        await session.exec(
            select(MarketSnapshot.id).where(
                MarketSnapshot.team_id == snapshot.team_id,
                col(MarketSnapshot.withdrawn_at).is_(None),
                MarketSnapshot.role_id == snapshot.role_id,
                MarketSnapshot.region == Region.LONDON,
                MarketSnapshot.source == snapshot.source,
                MarketSnapshot.period_start == snapshot.period_start,
                MarketSnapshot.period_end == snapshot.period_end,
            )
        )
    ).first()
    if london is None:
        return []
    rows = await session.exec(
        select(PayFigure).where(PayFigure.snapshot_id == london, PayFigure.region == Region.LONDON)
    )
    return list(rows.all())


def skill_stat(figure: SkillFigure, skill: Skill) -> SkillStat:
    return SkillStat(
        name=skill.name,
        slug=skill.slug,
        demand_pct=figure.demand_pct,
        supply_pct=figure.supply_pct,
        is_essential=figure.is_essential,
        is_emerging=figure.is_emerging,
        is_gap=figure.is_gap,
        rank=figure.rank,
        sample_size=figure.sample_size,
        note=figure.note,
        demand_low_pct=figure.demand_low_pct,
        demand_high_pct=figure.demand_high_pct,
    )


def role_summary(role: Role, latest: SnapshotInfo | None) -> RoleSummary:
    return RoleSummary(role.slug, role.title, role.summary, role.typical_tenure_months, latest)


def snapshot_info(snapshot: MarketSnapshot, role: Role) -> SnapshotInfo:
    assert snapshot.id is not None
    return SnapshotInfo(
        id=snapshot.id,
        role_slug=role.slug,
        role_title=role.title,
        region=snapshot.region,
        published_on=snapshot.published_on,
        period_label=snapshot.period_label,
        period_start=snapshot.period_start,
        period_end=snapshot.period_end,
        source=snapshot.source,
        source_kind=SourceKind(snapshot.source_kind),
        imported_at=snapshot.imported_at,
        team_id=snapshot.team_id,
        sample_size=snapshot.sample_size,
        supply_sample_size=snapshot.supply_sample_size,
    )

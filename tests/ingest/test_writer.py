"""Computed snapshots stored in bulk: every figure and pair lands, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import session_factory, transaction
from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.ingest_models import SkillCooccurrence
from db.models import MarketSnapshot, PayFigure, PayKind, Skill, SkillFigure, SourceKind
from db.snapshots import Cooccurrences, SnapshotToStore, StoreOutcome, write_snapshots

# More figures and pairs than one multi-row statement holds, and not a multiple of it.
SKILLS = 250
PAIRS = 1_001


def computed_snapshot(share_shift: float = 0.0) -> SnapshotToStore:
    names = [f"Skill {i:03d}" for i in range(SKILLS)]
    skills = tuple(
        SkillDocument(
            name=name,
            demand_pct=round(90 - i * 0.3, 1),
            supply_pct=None if i % 3 else 12.5,
            demand_low_pct=round(80 - i * 0.3, 1),
            demand_high_pct=round(95 - i * 0.3, 1),
            is_essential=i < 10,
            is_emerging=i % 7 == 0,
            is_gap=i % 11 == 0,
            rank=i + 1,
            sample_size=400,
            note=f"in {400 - i} of 400 ads",
        )
        for i, name in enumerate(names)
    )
    pairs = [(i % SKILLS, (i * 7 + 1 + i // SKILLS) % SKILLS) for i in range(PAIRS)]
    document = SnapshotDocument(
        role=RoleDocument("AI Engineer"),
        published_on=date(2026, 4, 5),
        period_label="2026-W14",
        period_start=date(2026, 3, 30),
        period_end=date(2026, 4, 5),
        source="job ads, week",
        source_kind=SourceKind.JOB_ADS,
        team_id="T1",
        sample_size=400,
        pay=(PayDocument(PayKind.ANNUAL, "UK", median=70_000.0, sample_size=40),),
        skills=skills,
    )
    cooccurrences = Cooccurrences(
        skills=[names[i] for i, _ in pairs],
        others=[names[j] for _, j in pairs],
        ads=[1 + n % 50 for n in range(PAIRS)],
        share_pcts=[round(n % 1000 / 10 + share_shift, 1) for n in range(PAIRS)],
    )
    return SnapshotToStore(document, cooccurrences)


async def stored_rows(engine: AsyncEngine) -> tuple[list[tuple[object, ...]], ...]:
    async with session_factory(engine)() as session:
        names = {s.id: s.name for s in (await session.exec(select(Skill))).all()}
        figures = (await session.exec(select(SkillFigure).order_by(col(SkillFigure.id)))).all()
        pairs = (
            await session.exec(select(SkillCooccurrence).order_by(col(SkillCooccurrence.id)))
        ).all()
        snapshots = (await session.exec(select(MarketSnapshot))).all()
        pay = (await session.exec(select(PayFigure))).all()
    return (
        [
            (
                names[f.skill_id],
                f.demand_pct,
                f.supply_pct,
                f.demand_low_pct,
                f.demand_high_pct,
                f.is_essential,
                f.is_emerging,
                f.is_gap,
                f.rank,
                f.sample_size,
                f.note,
            )
            for f in figures
        ],
        [(names[p.skill_id], names[p.other_skill_id], p.ads, p.share_pct) for p in pairs],
        [(s.id, s.checksum) for s in snapshots],
        [(p.kind, p.region, p.median, p.sample_size) for p in pay],
    )


async def write(engine: AsyncEngine, computed: SnapshotToStore) -> StoreOutcome:
    async with transaction(engine) as session:
        skills = (await session.exec(select(Skill))).all()
        skill_ids = {s.name: s.id for s in skills if s.id is not None}
        (result,) = await write_snapshots(session, [computed], skill_ids)
    return result.outcome


async def test_every_figure_and_pair_is_stored_in_order(empty_engine: AsyncEngine) -> None:
    async with transaction(empty_engine) as session:
        session.add_all(Skill(slug=f"skill-{i:03d}", name=f"Skill {i:03d}") for i in range(SKILLS))
    computed = computed_snapshot()

    assert await write(empty_engine, computed) == StoreOutcome.CREATED

    figures, pairs, snapshots, pay = await stored_rows(empty_engine)
    assert figures == [
        (
            s.name,
            s.demand_pct,
            s.supply_pct,
            s.demand_low_pct,
            s.demand_high_pct,
            s.is_essential,
            s.is_emerging,
            s.is_gap,
            s.rank,
            s.sample_size,
            s.note,
        )
        for s in computed.document.skills
    ]
    pairs_written = computed.cooccurrences
    assert pairs == list(
        zip(
            pairs_written.skills,
            pairs_written.others,
            pairs_written.ads,
            pairs_written.share_pcts,
            strict=True,
        )
    )
    assert snapshots == [(snapshots[0][0], computed.document.checksum())]
    assert pay == [(PayKind.ANNUAL, "UK", 70_000.0, 40)]

    # The same facts again change nothing; other figures replace the snapshot and its rows.
    assert await write(empty_engine, computed) == StoreOutcome.UNCHANGED
    assert await stored_rows(empty_engine) == (figures, pairs, snapshots, pay)
    skills = computed.document.skills
    changed = computed_snapshot(share_shift=0.1)
    changed = replace(
        changed,
        document=replace(
            changed.document, skills=(replace(skills[0], demand_pct=91.0), *skills[1:])
        ),
    )
    assert await write(empty_engine, changed) == StoreOutcome.REPLACED
    figures_after, pairs_after, snapshots_after, pay_after = await stored_rows(empty_engine)
    assert figures_after == [(figures[0][0], 91.0, *figures[0][2:]), *figures[1:]]
    assert [pair[3] for pair in pairs_after] == list(changed.cooccurrences.share_pcts)
    assert [checksum for _, checksum in snapshots_after] == [changed.document.checksum()]
    assert pay_after == pay

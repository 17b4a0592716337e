"""Every figure of the April 2026 UK AI Engineer report comes back from the seeded store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import session_factory
from db.importers.aliases import curated_aliases, load_aliases
from db.importers.bundled import bundled_snapshot_files
from db.importers.store import store_documents
from db.importers.structured import parse_structured_file
from db.models import (
    MarketSnapshot,
    PayFigure,
    PayKind,
    RelationKind,
    Role,
    RoleAlias,
    RoleRelation,
    Skill,
    SkillAlias,
    SkillFigure,
)
from db.startup import prepare
from tests.db.import_helpers import row_counts

# The report's figures, restated here independently of the bundled YAML.
GAPS = {
    "Production LLM Deployment": (75, 25, 1),
    "MLOps for GenAI": (65, 22, 2),
    "Model Fine-Tuning at Scale": (45, 12, 3),
    "AI Evaluation & Safety": (40, 15, 4),
    "Vector Database Optimisation": (42, 20, 5),
}
ESSENTIAL = [
    "Python",
    "Machine Learning",
    "Cloud Platforms",
    "Large Language Models",
    "Problem Solving",
]
EMERGING = [
    "Agentic AI Frameworks",
    "Prompt Engineering",
    "Fine-Tuning",
    "AI Evaluation & Safety",
    "Multimodal AI",
]
PAY = {
    (PayKind.ANNUAL, "UK"): (75000, 50000, 120000),
    (PayKind.ANNUAL, "London"): (90000, None, None),
    (PayKind.DAILY, "UK"): (650, 450, 950),
    (PayKind.DAILY, "London"): (750, None, None),
}


async def _april(engine: AsyncEngine) -> tuple[Role, MarketSnapshot]:
    async with session_factory(engine)() as session:
        role = (await session.exec(select(Role).where(Role.slug == "ai-engineer"))).one()
        snapshot = (
            await session.exec(
                select(MarketSnapshot).where(
                    MarketSnapshot.role_id == role.id, MarketSnapshot.period_label == "April 2026"
                )
            )
        ).one()
    return role, snapshot


async def test_snapshot_identity(engine: AsyncEngine) -> None:
    role, snapshot = await _april(engine)
    assert role.title == "AI Engineer"
    assert snapshot.region == "UK"
    assert snapshot.published_on == date(2026, 4, 1)
    assert (snapshot.period_start, snapshot.period_end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert snapshot.source == "UK market report"
    assert snapshot.team_id == ""


async def test_every_pay_figure(engine: AsyncEngine) -> None:
    _, snapshot = await _april(engine)
    async with session_factory(engine)() as session:
        figures = (
            await session.exec(select(PayFigure).where(PayFigure.snapshot_id == snapshot.id))
        ).all()
    stored = {
        (figure.kind, figure.region): (figure.median, figure.low, figure.high) for figure in figures
    }
    assert stored == PAY


async def test_every_skills_gap_figure(engine: AsyncEngine) -> None:
    _, snapshot = await _april(engine)
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(
                select(Skill.name, SkillFigure)
                .join(SkillFigure, col(SkillFigure.skill_id) == col(Skill.id))
                .where(SkillFigure.snapshot_id == snapshot.id, col(SkillFigure.is_gap))
            )
        ).all()
    stored = {name: (figure.demand_pct, figure.supply_pct, figure.rank) for name, figure in rows}
    assert stored == GAPS
    assert all(figure.note for _, figure in rows), "every gap carries its explanation"
    for name, figure in rows:
        assert figure.demand_pct is not None and figure.supply_pct is not None
        demand, supply, _ = GAPS[name]
        assert figure.demand_pct - figure.supply_pct == demand - supply


async def test_essential_and_emerging_lists(engine: AsyncEngine) -> None:
    _, snapshot = await _april(engine)
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(
                select(Skill.name, SkillFigure)
                .join(SkillFigure, col(SkillFigure.skill_id) == col(Skill.id))
                .where(SkillFigure.snapshot_id == snapshot.id)
            )
        ).all()
    essential = sorted((f.rank, name) for name, f in rows if f.is_essential)
    assert [name for _, name in essential] == ESSENTIAL
    emerging = {name for name, f in rows if f.is_emerging}
    assert emerging == set(EMERGING)
    assert len(rows) == 14, "five gaps, five essential, four emerging-only skills"


async def test_role_facts(engine: AsyncEngine) -> None:
    role, _ = await _april(engine)
    async with session_factory(engine)() as session:
        relations = (
            await session.exec(
                select(RoleRelation)
                .where(RoleRelation.role_id == role.id)
                .order_by(col(RoleRelation.kind), col(RoleRelation.position))
            )
        ).all()
    assert role.typical_tenure_months == 24
    ladder = [r.title for r in relations if r.kind == RelationKind.PROGRESSION]
    assert ladder == [
        "Software Engineer / Junior ML Engineer",
        "AI Engineer",
        "Senior AI Engineer",
        "Lead AI Engineer / AI Tech Lead",
        "Head of AI / Principal AI Engineer",
    ]
    lateral = [r.title for r in relations if r.kind == RelationKind.LATERAL]
    assert lateral == ["Machine Learning Engineer", "MLOps Engineer", "AI Solutions Architect"]
    routes = role.entry_routes.splitlines()
    assert len(routes) == 2
    assert "software engineering" in routes[0].lower() and "data science" in routes[1].lower()
    assert role.summary


async def _ladder(engine: AsyncEngine) -> list[str]:
    role, _ = await _april(engine)
    async with session_factory(engine)() as session:
        query = (
            select(RoleRelation.title)
            .where(RoleRelation.role_id == role.id, RoleRelation.kind == RelationKind.PROGRESSION)
            .order_by(col(RoleRelation.position))
        )
        return list((await session.exec(query)).all())


async def test_starting_again_on_a_seeded_store_writes_nothing(engine: AsyncEngine) -> None:
    # Every CLI start, even a read-only one, prepares the store and loads the bundled data.
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await prepare(engine, load_bundled=True)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert writes == []

    # A newer report with another ladder still rewrites it.
    [path] = bundled_snapshot_files()
    april = parse_structured_file(path)
    newer = replace(
        april,
        role=replace(april.role, progression=("AI Engineer", "Staff AI Engineer")),
        published_on=date(2026, 5, 1),
        period_label="May 2026",
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
    )
    await store_documents(engine, [newer])
    assert await _ladder(engine) == ["AI Engineer", "Staff AI Engineer"]


@pytest.mark.parametrize(
    ("alias", "skill"),
    [
        ("lora", "LoRA"),
        ("qlora", "QLoRA"),
        ("model fine tuning", "Fine-Tuning"),
        ("model fine tuning at scale", "Model Fine-Tuning at Scale"),
        ("ai safety and evaluation", "AI Evaluation & Safety"),
        ("llms", "Large Language Models"),
        ("langgraph", "LangGraph"),
        ("crewai", "CrewAI"),
        ("aws", "AWS"),
        ("cloud platforms", "Cloud Platforms"),
    ],
)
async def test_skill_aliases(sqlite_engine: AsyncEngine, alias: str, skill: str) -> None:
    async with session_factory(sqlite_engine)() as session:
        owner = (
            await session.exec(
                select(Skill.name)
                .join(SkillAlias, col(SkillAlias.skill_id) == col(Skill.id))
                .where(SkillAlias.normalized == alias)
            )
        ).one()
    assert owner == skill


async def test_role_aliases(sqlite_engine: AsyncEngine) -> None:
    async with session_factory(sqlite_engine)() as session:
        aliases = set((await session.exec(select(RoleAlias.alias))).all())
    assert {"AI Engineer", "AI Eng", "GenAI Engineer", "LLM Engineer"} <= aliases


async def test_taxonomy_skills_resolve_but_carry_no_invented_figures(
    sqlite_engine: AsyncEngine,
) -> None:
    # The bundled taxonomy makes "k8s" resolve to Kubernetes, yet the report gives Kubernetes
    # no figures, so no snapshot may hold any for it.
    counts = await row_counts(sqlite_engine)
    async with session_factory(sqlite_engine)() as session:
        names = set((await session.exec(select(Skill.name))).all())
        kubernetes = (
            await session.exec(
                select(Skill.name)
                .join(SkillAlias, col(SkillAlias.skill_id) == col(Skill.id))
                .where(SkillAlias.normalized == "k8s")
            )
        ).one()
        with_figures = set(
            (
                await session.exec(
                    select(Skill.name).join(SkillFigure, col(SkillFigure.skill_id) == col(Skill.id))
                )
            ).all()
        )
    assert kubernetes == "Kubernetes"
    assert len(names) > 200
    assert "Kubernetes" not in with_figures
    assert counts["skill_figures"] == 14


def test_bundled_files_and_alias_table_are_consistent() -> None:
    assert [path.name for path in bundled_snapshot_files()] == ["ai-engineer-uk-2026-04.yaml"]
    table = curated_aliases().skills
    assert table.resolve("Model Fine-Tuning")[0] == "Fine-Tuning"
    assert table.resolve("LoRA")[0] == "LoRA"  # a skill of its own, not the scarce gap skill
    assert table.resolve("k8s")[0] == "Kubernetes"


def test_alias_table_refuses_a_name_under_two_skills(tmp_path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text("skills:\n  A: [Shared]\n  B: [shared]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed under both"):
        load_aliases(path)

"""The read model over stored snapshots: latest figures, comparisons, team isolation, names."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.market import MarketReader
from db.market_comparison import SkillMovement
from db.models import PayKind, SourceKind
from db.resolve import MatchKind

ROLE = RoleDocument(
    title="Test Engineer",
    aliases=("QA Eng",),
    typical_tenure_months=24,
    progression=("Junior Test Engineer", "Test Engineer", "Lead Test Engineer"),
    lateral_moves=("SRE",),
    entry_routes=("Support", "Development"),
)


def month(
    number: int, median: float, skills: tuple[SkillDocument, ...], team: str = ""
) -> SnapshotDocument:
    last_day = {4: 30, 5: 31, 6: 30}[number]
    return SnapshotDocument(
        role=ROLE,
        published_on=date(2026, number, 1),
        period_label=date(2026, number, 1).strftime("%B %Y"),
        period_start=date(2026, number, 1),
        period_end=date(2026, number, last_day),
        source="UK market report",
        source_kind=SourceKind.CURATED,
        team_id=team,
        pay=(
            PayDocument(PayKind.ANNUAL, "UK", median=median, low=50_000, high=120_000),
            PayDocument(PayKind.ANNUAL, "London", median=median + 15_000),
            PayDocument(PayKind.DAILY, "UK", median=650, low=450, high=950),
        ),
        skills=skills,
    )


APRIL = month(
    4,
    75_000,
    (
        SkillDocument("Pytest", demand_pct=75, supply_pct=25, is_gap=True, rank=1),
        SkillDocument("Selenium", demand_pct=40, supply_pct=30, is_gap=True, rank=2),
        SkillDocument("Python", is_essential=True, rank=1),
    ),
)
MAY = month(
    5,
    78_000,
    (
        SkillDocument("Pytest", demand_pct=80, supply_pct=25, is_gap=True, rank=1),
        SkillDocument("Python", is_essential=True, rank=1),
        SkillDocument("Playwright", is_emerging=True, rank=1),
    ),
)


async def test_latest_and_as_of(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL, MAY])
    market = MarketReader(empty_engine)
    latest = await market.role_stats("test-engineer")
    assert latest is not None
    assert latest.snapshot.period_label == "May 2026"
    assert latest.salary is not None and latest.salary.median == 78_000
    assert latest.salary_london is not None and latest.salary_london.median == 93_000
    assert latest.day_rate is not None and latest.day_rate.unit == "/day"
    assert latest.snapshot.provenance == "UK market report, May 2026"
    april = await market.role_stats("test-engineer", as_of=date(2026, 4, 15))
    assert april is not None and april.snapshot.period_label == "April 2026"
    assert [s.name for s in april.skills_by_gap()] == ["Pytest", "Selenium"]
    assert april.skills_by_gap()[0].gap_points == 50
    assert [s.name for s in april.essential_skills()] == ["Python"]


async def test_comparison_reports_every_change(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL, MAY])
    comparison = await MarketReader(empty_engine).compare("test-engineer")
    assert comparison is not None
    assert (comparison.older.period_label, comparison.newer.period_label) == (
        "April 2026",
        "May 2026",
    )
    salary = comparison.pay_changes[0]
    assert (salary.kind, salary.region) == (PayKind.ANNUAL, "UK")
    assert salary.median.delta == 3_000 and salary.median.percent == 4.0
    day_rate = next(p for p in comparison.pay_changes if p.kind is PayKind.DAILY)
    assert not day_rate.changed
    assert [c.name for c in comparison.skills_added] == ["Playwright"]
    assert [c.name for c in comparison.skills_removed] == ["Selenium"]
    assert [c.name for c in comparison.skills_moved] == ["Pytest"]
    assert [c.name for c in comparison.newly_emerging] == ["Playwright"]
    pytest_gap = next(c for c in comparison.gap_changes if c.name == "Pytest")
    assert (pytest_gap.gap.old, pytest_gap.gap.new, pytest_gap.gap.delta) == (50, 55, 5)
    assert comparison.has_changes
    moved = next(c for c in comparison.skill_changes if c.name == "Python")
    assert moved.movement is SkillMovement.UNCHANGED


async def test_no_earlier_snapshot_means_no_comparison(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL])
    assert await MarketReader(empty_engine).compare("test-engineer") is None


async def test_a_teams_own_data_is_never_served_to_another(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL, month(6, 99_000, APRIL.skills, team="T1")])
    market = MarketReader(empty_engine)
    own = await market.role_stats("test-engineer", "T1")
    other = await market.role_stats("test-engineer", "T2")
    assert own is not None and own.salary is not None and own.salary.median == 99_000
    assert other is not None and other.salary is not None and other.salary.median == 75_000
    assert all(s.team_id != "T1" for s in await market.snapshots(team_id="T2"))
    across = await market.skill_across("pytest", "T2")
    assert across is not None
    assert {o.snapshot.team_id for o in across.observations} == {""}


async def test_path_skill_across_and_roles(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL, MAY])
    market = MarketReader(empty_engine)
    path = await market.role_path("test-engineer")
    assert path is not None
    assert path.ladder == ROLE.progression
    assert path.next_step == "Lead Test Engineer"
    assert path.lateral_moves == ("SRE",)
    assert path.entry_routes == ("Support", "Development")
    assert path.typical_tenure_months == 24
    across = await market.skill_across("pytest")
    assert across is not None
    assert [o.stat.demand_pct for o in across.observations] == [80, 75]
    roles = await market.list_roles()
    assert [r.title for r in roles] == ["Test Engineer"]
    assert roles[0].latest is not None and roles[0].latest.period_label == "May 2026"


async def test_names_resolve_through_stored_aliases(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [APRIL])
    market = MarketReader(empty_engine, recheck_seconds=0)
    assert (await market.resolve_role("qa eng")).kind is MatchKind.ALIAS
    assert (await market.resolve_skill("pytset")).match is not None
    assert (await market.resolve_skill("Playwright")).match is None
    await store_documents(empty_engine, [MAY])  # another process's import
    assert (await market.resolve_skill("Playwright")).kind is MatchKind.EXACT

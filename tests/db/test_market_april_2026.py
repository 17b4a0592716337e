"""Every figure of the April 2026 UK AI Engineer report comes back from the read model."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from db.market import MarketReader
from db.models import PayKind
from db.resolve import MatchKind

GAPS = [
    ("Production LLM Deployment", 75, 25, 50),
    ("MLOps for GenAI", 65, 22, 43),
    ("Model Fine-Tuning at Scale", 45, 12, 33),
    ("AI Evaluation & Safety", 40, 15, 25),
    ("Vector Database Optimisation", 42, 20, 22),
]


async def test_pay_figures(engine: AsyncEngine) -> None:
    stats = await MarketReader(engine).role_stats("ai-engineer")
    assert stats is not None
    assert stats.snapshot.provenance == "UK market report, April 2026"
    assert stats.role.title == "AI Engineer"
    salary, london = stats.salary, stats.salary_london
    assert salary is not None and (salary.median, salary.low, salary.high) == (
        75_000,
        50_000,
        120_000,
    )
    assert london is not None and london.median == 90_000
    day, day_london = stats.day_rate, stats.day_rate_london
    assert day is not None and (day.median, day.low, day.high) == (650, 450, 950)
    assert day_london is not None and day_london.median == 750
    # The report says "around £750/day" for London, not that it is a median.
    assert day_london.qualifier == "around" and day.qualifier == ""
    assert stats.pay_for(PayKind.HOURLY) is None


async def test_skills_gaps_essential_and_emerging(engine: AsyncEngine) -> None:
    stats = await MarketReader(engine).role_stats("ai-engineer")
    assert stats is not None
    by_gap = [(s.name, s.demand_pct, s.supply_pct, s.gap_points) for s in stats.skills_by_gap()]
    assert by_gap == GAPS
    assert all(s.is_gap for s in stats.skills_by_gap())
    assert [s.name for s in stats.essential_skills()] == [
        "Python",
        "Machine Learning",
        "Cloud Platforms",
        "Large Language Models",
        "Problem Solving",
    ]
    assert [s.name for s in stats.emerging_skills()] == [
        "Agentic AI Frameworks",
        "Prompt Engineering",
        "Fine-Tuning",
        "AI Evaluation & Safety",
        "Multimodal AI",
    ]


async def test_path_tenure_and_moves(engine: AsyncEngine) -> None:
    path = await MarketReader(engine).role_path("ai-engineer")
    assert path is not None
    assert path.typical_tenure_months == 24
    assert path.ladder == (
        "Software Engineer / Junior ML Engineer",
        "AI Engineer",
        "Senior AI Engineer",
        "Lead AI Engineer / AI Tech Lead",
        "Head of AI / Principal AI Engineer",
    )
    assert path.next_step == "Senior AI Engineer"
    assert path.lateral_moves == (
        "Machine Learning Engineer",
        "MLOps Engineer",
        "AI Solutions Architect",
    )
    assert len(path.entry_routes) == 2
    assert "Software engineering" in path.entry_routes[0]


async def test_names_from_the_issue_resolve(engine: AsyncEngine) -> None:
    market = MarketReader(engine)
    role = await market.resolve_role("ai eng")
    assert role.match is not None and role.match.name == "AI Engineer"
    lora = await market.resolve_skill("LoRA")
    assert lora.match is not None and lora.match.name == "LoRA"
    # The report's emerging "Model Fine-Tuning" is not its scarce gap skill.
    tuning = await market.resolve_skill("model fine-tuning")
    assert tuning.kind is MatchKind.ALIAS
    assert tuning.match is not None and tuning.match.name == "Fine-Tuning"
    assert (await market.resolve_role("astronaut")).match is None

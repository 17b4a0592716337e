"""The gap logic: coverage and its formula, what to learn next, best-fit role, weekly changes."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.market import MarketReader
from db.models import PayKind, SourceKind
from db.personal import Reason, check_skills, feedback_summary, personal_changes
from db.resolve import Candidate
from tests.digests.data import may

PYTHON = Candidate("python", "Python")
SQL = Candidate("sql", "SQL")
SPARK = Candidate("apache-spark", "Apache Spark")
FINE_TUNING = Candidate("model-fine-tuning-at-scale", "Model Fine-Tuning at Scale")
PROD_LLM = Candidate("production-llm-deployment", "Production LLM Deployment")

DATA_ENGINEER = SnapshotDocument(
    role=RoleDocument("Data Engineer"),
    published_on=date(2026, 4, 1),
    period_label="April 2026",
    period_start=date(2026, 4, 1),
    period_end=date(2026, 4, 30),
    source="UK market report",
    source_kind=SourceKind.CURATED,
    pay=(PayDocument(PayKind.ANNUAL, "UK", median=65_000),),
    skills=(
        SkillDocument("Python", is_essential=True, rank=1),
        SkillDocument("SQL", is_essential=True, rank=2),
        SkillDocument("Apache Spark", demand_pct=50, supply_pct=30, rank=1),
    ),
)


async def test_coverage_counts_essentials_double_and_shows_its_arithmetic(
    sqlite_engine: AsyncEngine,
) -> None:
    check = await check_skills(MarketReader(sqlite_engine), [PYTHON, FINE_TUNING], "ai-engineer")
    assert check is not None
    coverage = check.coverage
    # The April report lists 5 essential skills and 9 others (gaps and emerging, merged).
    assert (coverage.essential_total, coverage.other_total) == (5, 9)
    # Fine-tuning at scale is fine-tuning, which is LLM work: both families are credited.
    assert (coverage.essential_held, coverage.other_held) == (2, 2)
    assert coverage.percent == round(100 * (2 * 2 + 2) / (2 * 5 + 9))
    assert coverage.formula.endswith("= 6/19")
    assert [s.name for s in check.gaps_held] == ["Model Fine-Tuning at Scale"]
    assert check.next_step == "Senior AI Engineer"
    assert check.salary is not None and check.salary.median == 75_000
    assert check.day_rate_london is not None and check.day_rate_london.median == 750


async def test_next_skills_lead_with_two_essentials_then_demand_times_scarcity(
    sqlite_engine: AsyncEngine,
) -> None:
    check = await check_skills(MarketReader(sqlite_engine), [PYTHON, PROD_LLM], "ai-engineer")
    assert check is not None
    chosen = [(n.stat.name, n.reason) for n in check.next_skills]
    assert len(chosen) == 5
    assert [reason for _, reason in chosen[:2]] == [Reason.ESSENTIAL, Reason.ESSENTIAL]
    # 65% x (1 - 22%) = 50.7 beats 45% x (1 - 12%) = 39.6 beats 40% x (1 - 15%) = 34.0
    assert [name for name, _ in chosen[2:]] == [
        "MLOps for GenAI",
        "Model Fine-Tuning at Scale",
        "AI Evaluation & Safety",
    ]
    assert check.next_skills[2].opportunity == 50.7
    assert check.next_skills[4].emerging  # marked as emerging
    assert "Production LLM Deployment" not in [name for name, _ in chosen]  # already held
    # Production LLM Deployment is LLM work: the family is credited, and never suggested.
    assert "Large Language Models" in [s.name for s in check.essential_held]
    assert check.credited_via["large-language-models"] == PROD_LLM
    assert [name for name, _ in chosen[:2]] == ["Machine Learning", "Cloud Platforms"]


async def test_the_issue_check_credits_families_through_their_members(
    sqlite_engine: AsyncEngine,
) -> None:
    held = [
        PYTHON,
        Candidate("pytorch", "PyTorch"),
        Candidate("kubernetes", "Kubernetes"),
        Candidate("retrieval-augmented-generation", "Retrieval-Augmented Generation"),
        Candidate("langchain", "LangChain"),
        Candidate("aws", "AWS"),
    ]
    check = await check_skills(MarketReader(sqlite_engine), held, "ai-engineer")
    assert check is not None
    assert [s.name for s in check.essential_held] == [
        "Python",
        "Machine Learning",
        "Cloud Platforms",
        "Large Language Models",
    ]
    via = {slug: member.name for slug, member in check.credited_via.items()}
    assert via == {
        "machine-learning": "PyTorch",
        "cloud-platforms": "AWS",
        "large-language-models": "Retrieval-Augmented Generation",
    }
    assert (check.coverage.essential_held, check.coverage.percent) == (4, round(100 * 8 / 19))
    suggested = {n.stat.name for n in check.next_skills}
    assert not suggested & {"Machine Learning", "Cloud Platforms", "Large Language Models"}
    # A family's members never earn a stricter skill they do not imply.
    assert "Production LLM Deployment" not in [s.name for s in check.gaps_held]
    # Members that earned a listed family are not "also on your list".
    assert [c.name for c in check.unlisted] == ["Kubernetes"]
    # The report's examples of a family come with it.
    assert check.examples["cloud-platforms"] == ("AWS", "GCP", "Azure")


async def test_an_ai_engineers_cv_fits_ai_engineer_better_than_data_engineer(
    sqlite_engine: AsyncEngine,
) -> None:
    await store_documents(sqlite_engine, [DATA_ENGINEER])
    held = [
        PYTHON,
        Candidate("pytorch", "PyTorch"),
        Candidate("kubernetes", "Kubernetes"),
        Candidate("retrieval-augmented-generation", "Retrieval-Augmented Generation"),
        Candidate("langchain", "LangChain"),
        Candidate("aws", "AWS"),
    ]
    check = await check_skills(MarketReader(sqlite_engine, recheck_seconds=0), held, "ai-engineer")
    assert check is not None and check.best_fit is not None
    assert check.best_fit.title == "AI Engineer"


async def test_a_family_held_does_not_credit_its_members(sqlite_engine: AsyncEngine) -> None:
    held = [Candidate("fine-tuning", "Fine-Tuning"), Candidate("lora", "LoRA")]
    check = await check_skills(MarketReader(sqlite_engine), held, "ai-engineer")
    assert check is not None
    assert "Model Fine-Tuning at Scale" not in [s.name for s in check.gaps_held]
    assert "Model Fine-Tuning at Scale" in [s.name for s in check.gaps_lacking]
    assert "Fine-Tuning" in [s.name for s in check.emerging_held]


async def test_best_fit_compares_every_role_with_figures(sqlite_engine: AsyncEngine) -> None:
    await store_documents(sqlite_engine, [DATA_ENGINEER])
    market = MarketReader(sqlite_engine, recheck_seconds=0)
    check = await check_skills(market, [PYTHON, SQL, SPARK], "ai-engineer")
    assert check is not None
    assert check.best_fit is not None and check.best_fit.title == "Data Engineer"
    assert check.best_fit.coverage.percent == 100
    assert [c.name for c in check.unlisted] == ["SQL", "Apache Spark"]
    assert feedback_summary(check)["best_fit"] == "Data Engineer"


async def test_one_role_known_means_no_best_fit_claim(sqlite_engine: AsyncEngine) -> None:
    check = await check_skills(MarketReader(sqlite_engine), [PYTHON], "ai-engineer")
    assert check is not None and check.best_fit is None


async def test_a_role_without_figures_gives_no_check(sqlite_engine: AsyncEngine) -> None:
    assert await check_skills(MarketReader(sqlite_engine), [PYTHON], "astronaut") is None


async def test_weekly_changes_name_only_skills_the_person_lacks(
    sqlite_engine: AsyncEngine,
) -> None:
    await store_documents(sqlite_engine, [may()])
    comparison = await MarketReader(sqlite_engine, recheck_seconds=0).compare("ai-engineer")
    assert comparison is not None
    lacking = personal_changes(comparison, ["python"])
    # Largest rise first; Model Context Protocol is new (no earlier figure), so no rise is
    # claimed for it: it is reported as newly emerging instead.
    assert [c.name for c in lacking.lacking_gained_demand] == [
        "AI Evaluation & Safety",  # 40% -> 48%
        "Production LLM Deployment",  # 75% -> 80%
    ]
    assert "Model Context Protocol" in [c.name for c in lacking.newly_emerging]
    assert lacking.has_changes
    holding = personal_changes(comparison, [PROD_LLM.slug, "ai-evaluation-and-safety"])
    assert "Production LLM Deployment" not in [c.name for c in holding.lacking_gained_demand]

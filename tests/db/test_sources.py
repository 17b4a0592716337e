"""Several sources, one answer: per-figure precedence, series-only comparisons, freshness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.market import MarketReader
from db.models import PayKind, SourceKind
from db.sources import Offer, age_note, choose, window_of

TEAM = "T0RECRUIT"
ROLE = RoleDocument(title="AI Engineer", typical_tenure_months=24)

REPORT = SnapshotDocument(
    role=ROLE,
    published_on=date(2026, 4, 1),
    period_label="April 2026",
    period_start=date(2026, 4, 1),
    period_end=date(2026, 4, 30),
    source="UK market report",
    source_kind=SourceKind.REPORT,
    pay=(
        PayDocument(PayKind.ANNUAL, "UK", median=75_000, low=50_000, high=120_000),
        PayDocument(PayKind.ANNUAL, "London", median=90_000),
        PayDocument(PayKind.DAILY, "UK", median=650, low=450, high=950),
    ),
    skills=(
        SkillDocument("Production LLM Deployment", demand_pct=75, supply_pct=25, is_gap=True),
        SkillDocument("MLOps for GenAI", demand_pct=65, supply_pct=22, is_gap=True, rank=2),
        SkillDocument("Python", is_essential=True, rank=1),
        SkillDocument("Agentic AI Frameworks", is_emerging=True, rank=1),
    ),
)


def ads_window(
    *,
    ads: int,
    weeks: int,
    salary: float | None,
    salaries: int,
    candidates: int | None = None,
    day_rate: float | None = None,
    end: date = date(2026, 11, 29),
    team: str = TEAM,
    mlops_supply: float = 20.0,
) -> SnapshotDocument:
    """A snapshot as ingestion computes it from `ads` of a team's own job ads."""
    start = end - timedelta(days=7 * weeks - 1)
    supply = candidates is not None
    pay = [PayDocument(PayKind.ANNUAL, "UK", median=salary, sample_size=salaries)]
    if day_rate is not None:
        pay.append(PayDocument(PayKind.DAILY, "UK", median=day_rate, sample_size=40))
    return SnapshotDocument(
        role=ROLE,
        published_on=end,
        period_label=(
            f"{end.isocalendar().year}-W{end.isocalendar().week:02d}"
            if weeks == 1
            else f"{weeks} weeks to {end.isoformat()}"
        ),
        period_start=start,
        period_end=end,
        source="job ads, week" if weeks == 1 else f"job ads, {weeks} weeks",
        source_kind=SourceKind.JOB_ADS,
        team_id=team,
        sample_size=ads,
        supply_sample_size=candidates,
        pay=tuple(pay),
        skills=(
            SkillDocument(
                "MLOps for GenAI",
                demand_pct=66.7,
                supply_pct=mlops_supply if supply else None,
                is_essential=True,
                is_gap=supply,
                rank=1,
                sample_size=ads,
            ),
            SkillDocument("Python", demand_pct=58.3, supply_pct=60.0 if supply else None, rank=2),
        ),
    )


async def test_twelve_ads_leave_the_reports_figures_and_show_their_sound_salary(
    empty_engine: AsyncEngine,
) -> None:
    twelve = ads_window(ads=12, weeks=1, salary=68_000, salaries=12)
    await store_documents(empty_engine, [REPORT, twelve])
    stats = await MarketReader(empty_engine).role_stats("ai-engineer", TEAM)
    assert stats is not None
    # Skills, gaps and emerging skills stay the report's: 12 ads are too few for shares.
    assert stats.snapshot.source == "UK market report"
    assert [s.name for s in stats.essential_skills()] == ["Python"]
    assert [s.name for s in stats.top_gaps()] == ["Production LLM Deployment", "MLOps for GenAI"]
    assert [s.name for s in stats.emerging_skills()] == ["Agentic AI Frameworks"]
    assert stats.day_rate is not None and stats.day_rate.median == 650
    assert stats.salary_london is not None and stats.salary_london.median == 90_000
    # Twelve salaries make a sound median: the team's own figure shows, the report's beside.
    assert stats.salary is not None and stats.salary.median == 68_000
    assert stats.salary.attribution == "Your ads, week to 29 Nov, n=12"
    beside = stats.pay_beside_for(PayKind.ANNUAL)
    assert beside is not None and beside.median == 75_000
    assert beside.attribution == "Report, Apr 2026"
    assert [s.source for s in stats.sources] == ["UK market report", "job ads, week"]
    # Another workspace never sees the team's ads.
    public = await MarketReader(empty_engine).role_stats("ai-engineer", "T0OTHER")
    assert public is not None and public.salary is not None and public.salary.median == 75_000
    assert public.pay_beside == () and not public.mixes_sources


async def test_a_thin_newer_salary_never_replaces_a_sound_one(empty_engine: AsyncEngine) -> None:
    thin = ads_window(ads=12, weeks=1, salary=None, salaries=4)
    await store_documents(empty_engine, [REPORT, thin])
    stats = await MarketReader(empty_engine).role_stats("ai-engineer", TEAM)
    assert stats is not None and stats.salary is not None
    assert stats.salary.median == 75_000
    assert stats.salary.origin is not None and stats.salary.origin.source == "UK market report"


async def test_four_hundred_ads_show_both_sources_where_they_differ(
    empty_engine: AsyncEngine,
) -> None:
    weeks = [
        ads_window(ads=100, weeks=1, salary=67_000, salaries=70, end=date(2026, 11, 29) - delta)
        for delta in (timedelta(weeks=i) for i in range(4))
    ]
    window = ads_window(ads=400, weeks=4, salary=68_000, salaries=312, candidates=50, day_rate=640)
    await store_documents(empty_engine, [REPORT, *weeks, window])
    stats = await MarketReader(empty_engine).role_stats("ai-engineer", TEAM)
    assert stats is not None
    # 400 ads and 50 candidates are sound and fresher: skills and gaps come from them.
    assert stats.snapshot.source == "job ads, 4 weeks"
    assert stats.top_gaps()[0].name == "MLOps for GenAI"
    assert stats.gaps_source.source == "job ads, 4 weeks"
    assert stats.salary is not None and stats.salary.median == 68_000
    assert stats.salary.attribution == "Your ads, 4 weeks to 29 Nov, n=312"
    beside = stats.pay_beside_for(PayKind.ANNUAL)
    assert beside is not None and beside.attribution == "Report, Apr 2026"
    assert beside.median == 75_000
    # £640 against £650 a day is no material difference: one figure, no second line.
    assert stats.day_rate is not None and stats.day_rate.median == 640
    assert stats.pay_beside_for(PayKind.DAILY) is None
    # The report still answers what the ads cannot: London and emerging skills.
    assert stats.salary_london is not None and stats.salary_london.median == 90_000
    assert [s.name for s in stats.emerging_skills()] == ["Agentic AI Frameworks"]
    # 46.7 against the report's 43 points is no material difference: no second gap figure.
    assert stats.gap_beside_for("mlops-for-genai") is None


async def test_gaps_that_differ_materially_show_the_other_sources_beside(
    empty_engine: AsyncEngine,
) -> None:
    window = ads_window(
        ads=400, weeks=4, salary=68_000, salaries=312, candidates=50, mlops_supply=5.0
    )
    await store_documents(empty_engine, [REPORT, window])
    stats = await MarketReader(empty_engine).role_stats("ai-engineer", TEAM)
    assert stats is not None and stats.top_gaps()[0].gap_points == 61.7
    other = stats.gap_beside_for("mlops-for-genai")
    assert other is not None and other.gap_points == 43
    assert stats.gaps_beside_snapshot is not None
    assert stats.gaps_beside_snapshot.label == "Report, Apr 2026"


async def test_comparisons_never_cross_a_series(empty_engine: AsyncEngine) -> None:
    older_week = ads_window(ads=40, weeks=1, salary=60_000, salaries=30, end=date(2026, 11, 22))
    newer_week = ads_window(ads=40, weeks=1, salary=62_000, salaries=30)
    window = ads_window(ads=160, weeks=4, salary=61_000, salaries=120)
    await store_documents(empty_engine, [REPORT, older_week, newer_week, window])
    market = MarketReader(empty_engine)
    snapshots = {(s.source, s.period_end): s for s in await market.snapshots("ai-engineer", TEAM)}
    report = snapshots[("UK market report", date(2026, 4, 30))]
    week = snapshots[("job ads, week", date(2026, 11, 29))]
    four = snapshots[("job ads, 4 weeks", date(2026, 11, 29))]
    # A report month against an ads week, or a week against 4 weeks: no comparison.
    assert await market.compare("ai-engineer", TEAM, older_id=report.id, newer_id=week.id) is None
    assert await market.compare("ai-engineer", TEAM, older_id=week.id, newer_id=four.id) is None
    # The 4-week window has no earlier 4-week window: nothing to compare, not the report.
    assert await market.compare("ai-engineer", TEAM, newer_id=four.id) is None
    # Within the weekly series the change is found.
    weekly = await market.compare("ai-engineer", TEAM, newer_id=week.id)
    assert weekly is not None and weekly.older.period_end == date(2026, 11, 22)
    assert weekly.older.series == weekly.newer.series


def test_window_lengths_name_the_series() -> None:
    assert window_of(SourceKind.REPORT, date(2026, 4, 1), date(2026, 4, 30)) == "month"
    assert window_of(SourceKind.JOB_ADS, date(2026, 11, 23), date(2026, 11, 29)) == "week"
    assert window_of(SourceKind.JOB_ADS, date(2026, 11, 2), date(2026, 11, 29)) == "4 weeks"
    assert window_of(SourceKind.CURATED, date(2026, 1, 1), date(2026, 3, 31)) == "90 days"


def test_the_freshest_sound_offer_wins_and_the_other_owner_stays_beside() -> None:
    def offer(name: str, sound: bool, owner: str, end: date) -> Offer[str]:
        return Offer(name, sound, owner, end - timedelta(days=6), end, hash(name) % 1000)

    report = offer("report", True, "", date(2026, 4, 30))
    thin = offer("thin ads", False, TEAM, date(2026, 11, 29))
    sound = offer("sound ads", True, TEAM, date(2026, 11, 22))
    choice = choose([thin, report, sound])
    assert choice.chosen == sound and choice.beside == report
    only_thin = choose([thin])
    assert only_thin.chosen == thin and only_thin.beside is None
    assert choose([]).chosen is None


def test_age_is_said_once_figures_are_older_than_six_weeks() -> None:
    assert age_note(date(2026, 4, 30), date(2026, 12, 2)) == "7 months old"
    assert age_note(date(2026, 11, 29), date(2026, 12, 2)) == ""
    assert age_note(date(2026, 10, 10), date(2026, 12, 2)) == "7 weeks old"


async def test_figures_from_april_say_their_age_in_december(empty_engine: AsyncEngine) -> None:
    await store_documents(empty_engine, [REPORT])
    with time_machine.travel(datetime(2026, 12, 2, 9, tzinfo=UTC), tick=False):
        stats = await MarketReader(empty_engine).role_stats("ai-engineer")
        assert stats is not None
        assert stats.snapshot.provenance_dated == "UK market report, April 2026 — 7 months old"
    with time_machine.travel(datetime(2026, 5, 20, 9, tzinfo=UTC), tick=False):
        assert stats.snapshot.provenance_dated == "UK market report, April 2026"

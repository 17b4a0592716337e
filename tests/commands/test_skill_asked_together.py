"""`/skillgap skill` shows which skills job ads ask for together, to the ads' own team only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from db.ingest.aggregate import SnapshotRules
from db.ingest.pipeline import Ingestor
from db.market import MarketReader
from tests.ingest.helpers import write_csv
from tests.ingest.test_pipeline import week_one_ads
from tests.slack_helpers import SlackUser, running_app

TEAM = SlackUser(team_id="T0001")
OTHER_TEAM = SlackUser(team_id="T0OTHER", team_domain="other")
RULES = SnapshotRules(min_ads=10, min_base_ads=10, emerging_min_ads=3, min_candidates=5)


async def test_skill_card_lists_partners_from_the_teams_ads(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    await Ingestor(sqlite_engine, team_id=TEAM.team_id, rules=RULES).ingest_postings(
        [write_csv(tmp_path / "ads.csv", week_one_ads())]
    )
    together = await MarketReader(sqlite_engine).asked_together(
        "retrieval-augmented-generation", TEAM.team_id
    )
    assert together is not None
    # Every RAG ad also counts for RAG's family, LLMs, which is therefore no news: left out.
    assert [(p.other, p.ads) for p in together.partners] == [("Python", 5)]
    async with running_app(sqlite_engine) as app:
        mine = await app.command("skill rag", user=TEAM)
        theirs = await app.command("skill rag", user=OTHER_TEAM)
    assert "Often asked for together" in mine.text
    assert "Python: in 100% of the ads asking for Retrieval-Augmented Generation (5 ads)" in (
        mine.text
    )
    assert "Often asked for together" not in theirs.text


async def test_skill_answers_show_a_family_with_its_members_and_a_member_with_its_family(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    ads = week_one_ads()
    for index, ad in enumerate(ads):
        ad["description"] += " Runs on AWS." if index < 7 else " Runs on Azure."
    await Ingestor(sqlite_engine, team_id=TEAM.team_id, rules=RULES).ingest_postings(
        [write_csv(tmp_path / "ads.csv", ads)]
    )
    async with running_app(sqlite_engine) as app:
        family = await app.command("skill cloud platforms", user=TEAM)
        member = await app.command("skill aws", user=TEAM)
    # The family: its own figures (every ad names one of its members), and each member's.
    assert "demand 100%" in family.text
    assert "AWS: demand 70% (n=10)" in family.text
    assert "Azure: demand 30% (n=10)" in family.text
    assert "GCP: no demand figure yet" in family.text
    # The member: its own figures, and the family it counts for.
    assert "demand 70%" in member.text
    assert "*Part of* Cloud Platforms (demand 100% for AI Engineer, 2026-W14)" in member.text


async def test_report_only_skills_have_no_partners(sqlite_engine: AsyncEngine) -> None:
    market = MarketReader(sqlite_engine)
    assert await market.asked_together("production-llm-deployment") is None
    assert await market.asked_together("no-such-skill") is None

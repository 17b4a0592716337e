"""`ingest reextract`: stored ads read again under the skills graph, changed windows rebuilt."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from db.engine import session_factory, transaction
from db.ingest.pipeline import Ingestor
from db.ingest.reextract import (
    TAXONOMY_VERSION,
    reextract_if_taxonomy_changed,
    reextract_stored_ads,
)
from db.models import MarketSnapshot, StoreState
from db.snapshots import StoreOutcome
from db.taxonomy import load_taxonomy
from tests.ingest.helpers import write_csv
from tests.ingest.test_cli import cli_env  # noqa: F401  (a fixture)
from tests.ingest.test_pipeline import RULES, TEAM, WEEK_1, skill_figures, snapshot, week_one_ads

OTHER_TEAM = "T0OTHER"


async def _as_before_the_graph(engine: AsyncEngine) -> None:
    """Ads stored by a taxonomy without families: RAG ads did not count for LLMs."""
    async with transaction(engine) as session:
        await session.execute(
            text(
                "UPDATE ingested_ads SET skills = REPLACE(REPLACE(skills, "
                "'large-language-models|', ''), '|large-language-models', '') "
                "WHERE team_id = :team AND title = 'Senior AI Engineer'"
            ),
            {"team": TEAM},
        )
        state = await session.get(StoreState, TAXONOMY_VERSION)
        assert state is not None
        state.value = "1"
    await Ingestor(engine, team_id=TEAM, rules=RULES).recompute()


async def _snapshot_rows(engine: AsyncEngine, team: str) -> list[tuple[object, ...]]:
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(select(MarketSnapshot).where(MarketSnapshot.team_id == team))
        ).all()
    return sorted((r.id, r.checksum, r.imported_at, r.period_label) for r in rows)


async def test_ads_stored_before_a_family_existed_count_for_it_after_reextract(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    for team in (TEAM, OTHER_TEAM):
        await Ingestor(sqlite_engine, team_id=team, rules=RULES).ingest_postings(
            [write_csv(tmp_path / f"{team}.csv", week_one_ads())]
        )
    await _as_before_the_graph(sqlite_engine)
    weekly = await snapshot(sqlite_engine, "job ads, week", "UK", WEEK_1)
    figures = await skill_figures(sqlite_engine, weekly.id or 0)
    assert figures["Large Language Models"].demand_pct == 50.0  # titles only: the old count
    untouched = await _snapshot_rows(sqlite_engine, OTHER_TEAM)

    summary = await reextract_if_taxonomy_changed(sqlite_engine)
    assert summary is not None
    assert (summary.ads_read, summary.ads_changed) == (20, 2)  # two "Senior" RAG ads
    assert set(summary.changed_from) == {TEAM}
    assert StoreOutcome.REPLACED in {result.outcome for result in summary.snapshots}
    weekly = await snapshot(sqlite_engine, "job ads, week", "UK", WEEK_1)
    figures = await skill_figures(sqlite_engine, weekly.id or 0)
    assert figures["Large Language Models"].demand_pct == 70.0  # as a fresh ingest counts it
    # The other team's ads did not change: its snapshots are exactly as they were.
    assert await _snapshot_rows(sqlite_engine, OTHER_TEAM) == untouched

    # The version is remembered: nothing more on the next start; a manual run changes nothing.
    assert await reextract_if_taxonomy_changed(sqlite_engine) is None
    again = await reextract_stored_ads(sqlite_engine, rules=RULES)
    assert (again.ads_read, again.ads_changed, again.snapshots) == (20, 0, [])


async def test_a_store_without_ads_only_remembers_the_version(empty_engine: AsyncEngine) -> None:
    async with transaction(empty_engine) as session:
        state = await session.get(StoreState, TAXONOMY_VERSION)
        if state is not None:
            await session.delete(state)
    assert await reextract_if_taxonomy_changed(empty_engine) is None
    async with session_factory(empty_engine)() as session:
        state = await session.get(StoreState, TAXONOMY_VERSION)
    assert state is not None and state.value == str(load_taxonomy().version)


def test_reextract_command_reports_what_it_read(cli_env: Path, tmp_path: Path) -> None:  # noqa: F811
    path = write_csv(tmp_path / "ads.csv", week_one_ads())
    ingested = CliRunner().invoke(app, ["ingest", "postings", str(path), "--team", "T1"])
    assert ingested.exit_code == 0, ingested.output
    result = CliRunner().invoke(app, ["ingest", "reextract"])
    assert result.exit_code == 0, result.output
    assert "Read 10 stored ads again: 0 changed." in result.output
    assert "Snapshots: none recomputed." in result.output

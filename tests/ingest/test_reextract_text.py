"""`ingest reextract` reads stored ads' text again: a changed alias or rule reaches history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from db.engine import create_engine, session_factory, transaction
from db.ingest.ad_text import pack_text, unpack_text
from db.ingest.pipeline import Ingestor
from db.ingest.reextract import reextract_if_taxonomy_changed, reextract_stored_ads
from db.ingest_models import IngestedAd
from db.models import MarketSnapshot
from db.snapshots import StoreOutcome
from db.taxonomy import Taxonomy, load_taxonomy, parse_taxonomy
from tests.conftest import StoreTemplates
from tests.ingest.helpers import write_csv
from tests.ingest.test_cli import cli_env  # noqa: F401  (a fixture)
from tests.ingest.test_pipeline import RULES, WEEK_1, skill_figures
from tests.ingest.test_reextract import _snapshot_rows

EDITED, UNTOUCHED, FRESH = "T0EDITED", "T0UNTOUCHED", "T0FRESH"

# Before the edit, "aws" was a spelling of Cloud Platforms and "k8s" one of Kubernetes.
BEFORE = """
format: skillgap-taxonomy
version: 1
skills:
  Languages:
    - {name: Python}
  Cloud:
    - {name: Cloud Platforms, aliases: [aws, amazon web services, gcp]}
    - {name: Kubernetes, aliases: [k8s]}
"""
# The edit: AWS a skill of its own within Cloud Platforms; "k8s" no longer read as Kubernetes.
AFTER = """
format: skillgap-taxonomy
version: 2
skills:
  Languages:
    - {name: Python}
  Cloud:
    - {name: Cloud Platforms, aliases: [gcp]}
    - {name: AWS, aliases: [amazon web services], parents: [Cloud Platforms]}
    - {name: Kubernetes}
"""


def taxonomy(document: str) -> Taxonomy:
    """A small skills taxonomy with the shipped role rules, so titles map to roles."""
    shipped = load_taxonomy()
    return replace(
        parse_taxonomy(document), roles=shipped.roles, seniority_words=shipped.seniority_words
    )


def edited_team_ads() -> list[dict[str, str]]:
    """Ten AI Engineer ads: AWS in four, "k8s" in two, Kubernetes and GCP in one."""
    ads = []
    for i in range(10):
        words = ["Python services."]
        if i < 4:
            words.append("Deploy on AWS.")
        elif i < 6:
            words.append("Run k8s clusters.")
        elif i == 6:
            words.append("Kubernetes on GCP.")
        ads.append(
            {
                "id": f"e-{i}",
                "title": "AI Engineer",
                "description": " ".join(words) + f" Team {i}.",
                "created": (WEEK_1 + timedelta(days=i % 7)).isoformat(),
                "location": "Leeds",
                "company": f"Company {i}",
                "salary": f"£{60 + 5 * i}k",
            }
        )
    return ads


def untouched_team_ads() -> list[dict[str, str]]:
    """Ten ads the edit does not change: Python, and Kubernetes by its name."""
    return [
        dict(ad, id=f"u-{i}", description=f"Python and Kubernetes. Squad {i}.")
        for i, ad in enumerate(edited_team_ads())
    ]


async def stored_skills(engine: AsyncEngine, team: str) -> dict[str, str]:
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(
                select(IngestedAd.ad_key, IngestedAd.skills).where(IngestedAd.team_id == team)
            )
        ).all()
    return {key.removeprefix("id:"): skills for key, skills in rows}


async def weekly_figures(engine: AsyncEngine, team: str) -> dict[str, float | None]:
    async with session_factory(engine)() as session:
        weekly = (
            await session.exec(
                select(MarketSnapshot).where(
                    MarketSnapshot.team_id == team,
                    MarketSnapshot.source == "job ads, week",
                    MarketSnapshot.region == "UK",
                    MarketSnapshot.period_start == WEEK_1,
                )
            )
        ).one()
    figures = await skill_figures(engine, weekly.id or 0)
    return {name: figure.demand_pct for name, figure in figures.items()}


async def ingest(engine: AsyncEngine, team: str, ads: list[dict[str, str]], path: Path) -> None:
    await Ingestor(engine, team_id=team, rules=RULES, taxonomy=taxonomy(BEFORE)).ingest_postings(
        [write_csv(path / f"{team}.csv", ads)]
    )


@pytest.fixture
async def sqlite_store(store_templates: StoreTemplates) -> AsyncIterator[AsyncEngine]:
    """An empty migrated store on SQLite only, for the cases one backend shows."""
    engine = create_engine(await store_templates.fresh_url("sqlite", False, None))
    yield engine
    await engine.dispose()


async def test_a_taxonomy_edit_reaches_stored_ads_through_their_text(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    await ingest(empty_engine, EDITED, edited_team_ads(), tmp_path)
    await ingest(empty_engine, UNTOUCHED, untouched_team_ads(), tmp_path)
    before = await stored_skills(empty_engine, EDITED)
    assert before["e-0"] == "cloud-platforms|python" and before["e-4"] == "kubernetes|python"
    assert await weekly_figures(empty_engine, EDITED) == {
        "Python": 100.0,
        "Cloud Platforms": 50.0,
        "Kubernetes": 30.0,
    }
    untouched = await _snapshot_rows(empty_engine, UNTOUCHED)

    # On start, the taxonomy's version differs from the one the store was read with.
    summary = await reextract_if_taxonomy_changed(empty_engine, taxonomy(AFTER))
    assert summary is not None
    assert (summary.ads_read, summary.ads_changed, summary.ads_without_text) == (20, 6, 0)
    assert set(summary.changed_from) == {EDITED}
    assert {result.outcome for result in summary.snapshots} == {StoreOutcome.REPLACED}
    after = await stored_skills(empty_engine, EDITED)
    assert after["e-0"] == "aws|cloud-platforms|python"  # AWS, and its family still counted
    assert after["e-4"] == "python"  # "k8s" is no longer Kubernetes
    assert after["e-6"] == before["e-6"] == "cloud-platforms|kubernetes|python"
    figures = await weekly_figures(empty_engine, EDITED)
    # Kubernetes is left in one ad, too few for a figure (fewer than 3).
    assert figures == {"Python": 100.0, "Cloud Platforms": 50.0, "AWS": 40.0}
    # Exactly what a fresh ingest of the same ads under the edited taxonomy counts.
    await Ingestor(
        empty_engine, team_id=FRESH, rules=RULES, taxonomy=taxonomy(AFTER)
    ).ingest_postings([write_csv(tmp_path / "fresh.csv", edited_team_ads())])
    assert await weekly_figures(empty_engine, FRESH) == figures
    # The team whose ads read the same: its snapshots are byte for byte as they were.
    assert await _snapshot_rows(empty_engine, UNTOUCHED) == untouched

    # Read with this version now: nothing on the next start, nothing changes on a manual run.
    assert await reextract_if_taxonomy_changed(empty_engine, taxonomy(AFTER)) is None
    again = await reextract_stored_ads(empty_engine, taxonomy=taxonomy(AFTER), rules=RULES)
    assert (again.ads_read, again.ads_changed, again.snapshots) == (30, 0, [])


async def test_ads_stored_before_their_text_was_kept_are_read_from_their_skills(
    sqlite_store: AsyncEngine, tmp_path: Path
) -> None:
    await ingest(sqlite_store, EDITED, edited_team_ads(), tmp_path)
    async with transaction(sqlite_store) as session:
        # As the migration leaves ads stored before it: no text.
        await session.execute(
            text("UPDATE ingested_ads SET packed_text = NULL WHERE ad_key IN ('id:e-0', 'id:e-4')")
        )
    summary = await reextract_stored_ads(sqlite_store, taxonomy=taxonomy(AFTER), rules=RULES)
    assert (summary.ads_read, summary.ads_changed, summary.ads_without_text) == (10, 4, 2)
    after = await stored_skills(sqlite_store, EDITED)
    # Kept, never dropped, with their old reading: the edit cannot reach them without text.
    assert after["e-0"] == "cloud-platforms|python"
    assert after["e-4"] == "kubernetes|python"
    assert after["e-1"] == "aws|cloud-platforms|python"
    assert summary.notes() == [
        "2 of them were stored before their text was kept: their stored skills were read "
        "again with the families above them, but a changed alias or rule cannot reach them."
    ]


async def test_a_damaged_text_is_named_and_its_ad_kept_as_stored(
    sqlite_store: AsyncEngine, tmp_path: Path
) -> None:
    await ingest(sqlite_store, EDITED, edited_team_ads(), tmp_path)
    async with session_factory(sqlite_store)() as session:
        damaged = (
            await session.exec(select(IngestedAd).where(IngestedAd.ad_key == "id:e-1"))
        ).one()
    assert damaged.packed_text is not None
    assert unpack_text(damaged.packed_text).startswith("AI Engineer\nPython services.")
    async with transaction(sqlite_store) as session:
        await session.execute(
            text("UPDATE ingested_ads SET packed_text = :junk WHERE id = :id"),
            # A changed last byte (the checksum's): it no longer matches the text.
            {"junk": pack_text("AI Engineer")[:-1] + b"\x00", "id": damaged.id},
        )
    # Read by a parsing worker process, as a big store is.
    summary = await reextract_stored_ads(
        sqlite_store, taxonomy=taxonomy(AFTER), rules=RULES, workers=1
    )
    assert (summary.ads_read, summary.ads_unreadable, summary.unreadable_ids) == (
        10,
        1,
        [damaged.id],
    )
    after = await stored_skills(sqlite_store, EDITED)
    assert after["e-1"] == damaged.skills == "cloud-platforms|python"  # as it was
    assert after["e-0"] == "aws|cloud-platforms|python"  # the others read from their text
    assert after["e-4"] == "python"
    assert summary.notes() == [
        f"1 stored ad text(s) could not be read (damaged in the store; ad ids {damaged.id}): "
        "those ads kept their stored skills, with the families above them."
    ]


def test_reextract_command_says_which_ads_it_could_not_read_from_text(
    cli_env: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "ads.csv", edited_team_ads())
    ingested = CliRunner().invoke(app, ["ingest", "postings", str(path), "--team", "T1"])
    assert ingested.exit_code == 0, ingested.output
    engine = create_engine(f"sqlite+aiosqlite:///{cli_env}")

    async def forget_one_text() -> None:
        async with transaction(engine) as session:
            await session.execute(
                text("UPDATE ingested_ads SET packed_text = NULL WHERE ad_key = 'id:e-0'")
            )
        await engine.dispose()

    asyncio.run(forget_one_text())
    result = CliRunner().invoke(app, ["ingest", "reextract"])
    assert result.exit_code == 0, result.output
    assert "Read 10 stored ads again: 0 changed." in result.output
    assert "1 of them were stored before their text was kept" in result.output


async def test_processes_starting_together_on_postgresql_read_the_ads_again_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    """After an upgrade, web, worker and clock processes may all start at once: one reads the
    stored ads again, the others wait for it and then find nothing to do."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite's single writer and prepare's lock serialise the embedded store")
    engines = [create_engine(empty_database_url) for _ in range(3)]  # three processes' pools
    try:
        await ingest(engines[0], EDITED, edited_team_ads(), tmp_path)
        summaries = await asyncio.gather(
            *(reextract_if_taxonomy_changed(engine, taxonomy(AFTER)) for engine in engines)
        )
        done = [summary for summary in summaries if summary is not None]
        assert len(done) == 1
        assert (done[0].ads_read, done[0].ads_changed) == (10, 6)
        assert (await stored_skills(engines[0], EDITED))["e-0"] == "aws|cloud-platforms|python"
    finally:
        for engine in engines:
            await engine.dispose()

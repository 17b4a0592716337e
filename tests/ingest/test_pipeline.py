"""Ingest end to end on both backends: exact figures, de-duplication, idempotence, bad input."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.cooccurrence import cooccurring_skills
from db.engine import session_factory, transaction
from db.importers.document import InvalidImport
from db.ingest.ad_store import AdStore
from db.ingest.ad_text import pack_text
from db.ingest.aggregate import SnapshotRules
from db.ingest.pipeline import Ingestor
from db.ingest.stats import wilson_interval
from db.ingest.store_errors import IngestFailed
from db.ingest_models import IngestedAd, IngestedCandidate, SkillCooccurrence
from db.market import MarketReader
from db.models import MarketSnapshot, PayFigure, PayKind, Skill, SkillFigure
from db.snapshots import StoreOutcome
from tests.ingest.helpers import write_csv, write_jsonl

TEAM = "T0001"
WEEK_1 = date(2026, 3, 30)  # Monday of 2026-W14
WEEK_2 = WEEK_1 + timedelta(weeks=1)
RULES = SnapshotRules(min_ads=10, min_base_ads=10, emerging_min_ads=3, min_candidates=5)


def week_one_ads() -> list[dict[str, str]]:
    """Ten AI Engineer ads: Python in all, RAG in five, Kubernetes in two; known salaries."""
    ads = []
    for i in range(10):
        words = ["Python services."]
        if i < 5:
            words.append("Build RAG pipelines.")
        if i < 2:
            words.append("Deploy on Kubernetes.")
        ads.append(
            {
                "id": f"w1-{i}",
                "title": "Senior AI Engineer" if i % 2 else "LLM Engineer",
                "description": " ".join(words) + f" Team {i}.",
                "created": (WEEK_1 + timedelta(days=i % 7)).isoformat(),
                "location": "London, UK" if i < 4 else "Leeds",
                "company": f"Company {i}",
                "salary": f"£{60 + 5 * i}k",
                "contract_type": "permanent",
            }
        )
    return ads


def week_two_ads() -> list[dict[str, str]]:
    """Twelve ads: Python in all, RAG in nine, LangGraph (new) in six; day rates."""
    ads = []
    for i in range(12):
        words = ["Python and"]
        if i < 9:
            words.append("RAG.")
        if i < 6:
            words.append("Agents with LangGraph.")
        ads.append(
            {
                "id": f"w2-{i}",
                "title": "GenAI Engineer",
                "description": " ".join(words) + f" Squad {i}.",
                "created": (WEEK_2 + timedelta(days=i % 7)).isoformat(),
                "location": "Manchester",
                "company": f"Firm {i}",
                "salary": f"£{500 + 25 * i}/day",
                "contract_type": "contract",
            }
        )
    return ads


async def count(engine: AsyncEngine, table: type) -> int:
    async with session_factory(engine)() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def snapshot(engine: AsyncEngine, source: str, region: str, start: date) -> MarketSnapshot:
    async with session_factory(engine)() as session:
        found = (
            await session.exec(
                select(MarketSnapshot).where(
                    MarketSnapshot.team_id == TEAM,
                    MarketSnapshot.source == source,
                    MarketSnapshot.region == region,
                    MarketSnapshot.period_start == start,
                )
            )
        ).one()
        return found


async def skill_figures(engine: AsyncEngine, snapshot_id: int) -> dict[str, SkillFigure]:
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(
                select(Skill.name, SkillFigure)
                .join(SkillFigure, SkillFigure.skill_id == Skill.id)  # type: ignore[arg-type]
                .where(SkillFigure.snapshot_id == snapshot_id)
            )
        ).all()
        return {name: figure for name, figure in rows}


async def test_exact_demand_and_pay_figures(engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "week1.csv", week_one_ads())
    summary = await Ingestor(engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    assert (summary.rows, summary.stored, summary.duplicates, summary.bad_rows) == (10, 10, 0, 0)
    assert summary.snapshot_counts()[StoreOutcome.CREATED] == 1  # UK week; London has 4 ads

    weekly = await snapshot(engine, "job ads, week", "UK", WEEK_1)
    assert weekly.period_label == "2026-W14"
    assert weekly.period_end == date(2026, 4, 5) == weekly.published_on
    assert weekly.sample_size == 10 and weekly.supply_sample_size is None
    figures = await skill_figures(engine, weekly.id or 0)
    assert set(figures) == {"Python", "Retrieval-Augmented Generation", "Large Language Models"}
    assert figures["Python"].demand_pct == 100.0
    rag = figures["Retrieval-Augmented Generation"]
    assert rag.demand_pct == 50.0 and rag.sample_size == 10
    low, high = wilson_interval(5, 10)
    assert (rag.demand_low_pct, rag.demand_high_pct) == (round(low, 1), round(high, 1))
    assert (rag.demand_low_pct, rag.demand_high_pct) == (23.7, 76.3)
    # "LLM Engineer" titles (ads 0, 2, 4, 6, 8) name LLMs; RAG (ads 0-4) is LLM work, so the
    # family counts once for each ad that names it or a member: 7 of 10, never twice.
    # Kubernetes (two ads) is below the minimum.
    assert figures["Large Language Models"].demand_pct == 70.0
    assert figures["Python"].rank == 1 and figures["Python"].is_essential

    async with session_factory(engine)() as session:
        pay = (
            await session.exec(select(PayFigure).where(PayFigure.snapshot_id == weekly.id))
        ).all()
    assert [(p.kind, p.region, p.sample_size) for p in pay] == [(PayKind.ANNUAL, "UK", 10)]
    # 60k..105k in 5k steps: the median is the mean of 80k and 85k; no tails from 10 figures.
    assert pay[0].median == 82500
    assert (pay[0].p10, pay[0].p25, pay[0].p75, pay[0].p90) == (None, None, None, None)


async def test_same_file_twice_counts_once(empty_engine: AsyncEngine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "week1.csv", week_one_ads())
    ingestor = Ingestor(empty_engine, team_id=TEAM, rules=RULES)
    await ingestor.ingest_postings([path])
    snapshots_before = await count(empty_engine, MarketSnapshot)
    again = await ingestor.ingest_postings([path])
    assert (again.stored, again.duplicates) == (0, 10)
    assert again.snapshot_counts() == {StoreOutcome.UNCHANGED: 1}
    assert await count(empty_engine, IngestedAd) == 10
    assert await count(empty_engine, MarketSnapshot) == snapshots_before


async def test_reposted_ads_and_repeated_ids_are_deduplicated(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    ads = week_one_ads()
    repost = dict(ads[0], id="new-id-for-the-same-ad", created=WEEK_1.isoformat())
    repeated_id = dict(ads[1], description="Edited text, same id")
    no_id = dict(ads[2], id="")  # keyed by its words, which ad w1-2 already has
    path = write_csv(tmp_path / "ads.csv", [*ads, repost, repeated_id, no_id])
    summary = await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    assert (summary.rows, summary.stored, summary.duplicates) == (13, 10, 3)
    assert await count(empty_engine, IngestedAd) == 10


async def test_bad_rows_are_reported_by_line_and_skipped(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    lines = [
        '{"id": "a", "title": "AI Engineer", "description": "Python", "created": "2026-04-01"}',
        "{not json",
        '{"id": "b", "title": "", "description": "no title", "created": "2026-04-01"}',
        '{"id": "c", "title": "AI Engineer", "description": "Go", "created": "yesterday"}',
        "[1, 2]",
        '{"id": "d", "title": "AI Engineer", "description": "Rust", "created": "02/04/2026"}',
    ]
    path = tmp_path / "ads.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    assert (summary.rows, summary.stored, summary.bad_rows) == (6, 2, 4)
    assert [problem.line for problem in summary.problems] == [2, 3, 4, 5]
    assert "not valid JSON" in summary.problems[0].message
    assert "no title" in summary.problems[1].message
    assert "'yesterday' is not a date" in summary.problems[2].message
    async with session_factory(empty_engine)() as session:
        dates = (await session.exec(select(col(IngestedAd.posted_on)))).all()
    assert sorted(dates) == [date(2026, 4, 1), date(2026, 4, 2)]


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
async def test_a_row_with_a_nul_byte_past_the_first_64_kb_is_a_bad_row(
    empty_engine: AsyncEngine, tmp_path: Path, file_format: str
) -> None:
    ads = [
        dict(ad, id=f"{ad['id']}-{n}", description=f"{ad['description']} {'x' * 500} {n}")
        for n in range(15)
        for ad in week_one_ads()
    ]
    ads.insert(140, dict(ads[0], id="nul", title="AI \x00Engineer"))
    ads.insert(145, dict(ads[0], id="nul-2", description="Python\x00"))
    if file_format == "csv":
        path = write_csv(tmp_path / "ads.csv", ads)
    else:
        path = write_jsonl(tmp_path / "ads.jsonl", ads)  # NUL as the escape \u0000
    assert path.read_bytes().find(b"nul") > 64 * 1024
    summary = await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    assert (summary.rows, summary.stored, summary.bad_rows) == (152, 150, 2)
    line_of_first_ad = 2 if file_format == "csv" else 1
    assert [(problem.line, "NUL byte" in problem.message) for problem in summary.problems] == [
        (140 + line_of_first_ad, True),
        (145 + line_of_first_ad, True),
    ]
    async with session_factory(empty_engine)() as session:
        titles = (await session.exec(select(col(IngestedAd.title)))).all()
    assert len(titles) == 150 and not any("\x00" in title for title in titles)


async def test_a_bad_value_is_echoed_clipped(empty_engine: AsyncEngine, tmp_path: Path) -> None:
    ads = [*week_one_ads(), dict(week_one_ads()[0], id="long", created="soon" * 250_000)]
    path = write_csv(tmp_path / "ads.csv", ads)
    summary = await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    [problem] = summary.problems
    assert problem.line == 12 and "is not a date" in problem.message
    assert "soo…' is not a date" in problem.message and len(problem.message) < 300


REFUSED_TITLE = "Refused Engineer"


async def refuse_a_title(engine: AsyncEngine) -> None:
    """A trigger that makes the database itself refuse one ad, as a full disk or a value it
    cannot hold would."""
    if engine.dialect.name == "sqlite":
        statements = [
            "CREATE TRIGGER refuse_title BEFORE INSERT ON ingested_ads "
            f"WHEN NEW.title = '{REFUSED_TITLE}' "
            "BEGIN SELECT RAISE(ABORT, 'title refused by a test trigger'); END"
        ]
    else:
        statements = [
            "CREATE FUNCTION refuse_title() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.title = '{REFUSED_TITLE}' THEN "
            "RAISE EXCEPTION 'title refused by a test trigger'; END IF; RETURN NEW; END "
            "$$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_title BEFORE INSERT ON ingested_ads "
            "FOR EACH ROW EXECUTE FUNCTION refuse_title()",
        ]
    async with transaction(engine) as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_a_database_error_names_file_and_lines_and_stores_nothing(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    await refuse_a_title(empty_engine)
    ads = week_one_ads()
    ads[4] = dict(ads[4], title=REFUSED_TITLE)
    path = write_csv(tmp_path / "ads.csv", ads)
    with pytest.raises(IngestFailed) as failed:
        await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([path])
    message = str(failed.value)
    assert message.startswith(
        f"The database refused the ingest while storing the ads of {path}, lines 2–11 ("
    )
    assert "title refused by a test trigger" in message
    assert "Nothing from this run was stored." in message
    assert "\n" not in message and "INSERT" not in message and len(message) < 600
    assert await count(empty_engine, IngestedAd) == 0
    assert await count(empty_engine, MarketSnapshot) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ads.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "PNG image"),
        ("ads.jsonl", b'[{"title": "AI Engineer"}]', "JSON array, not JSON Lines"),
        ("ads.jsonl", b'{\n  "title": "AI Engineer"\n}\n', "one object per line"),
        ("ads.csv", b"name,colour\nx,y\n", "no title column"),
        ("ads.csv", b"", "is empty"),
    ],
)
async def test_a_file_that_is_not_an_export_is_refused_whole(
    empty_engine: AsyncEngine, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    good = write_csv(tmp_path / "good.csv", week_one_ads())
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(InvalidImport) as refused:
        await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings([good, bad])
    assert message in str(refused.value)
    assert str(bad) in str(refused.value)
    assert await count(empty_engine, IngestedAd) == 0
    assert await count(empty_engine, MarketSnapshot) == 0


async def test_two_weeks_show_week_on_week_changes_in_the_read_model(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    ingestor = Ingestor(engine, team_id=TEAM, rules=RULES)
    await ingestor.ingest_postings([write_csv(tmp_path / "w1.csv", week_one_ads())])
    await ingestor.ingest_postings([write_jsonl(tmp_path / "w2.jsonl", week_two_ads())])

    week_two = await snapshot(engine, "job ads, week", "UK", WEEK_2)
    figures = await skill_figures(engine, week_two.id or 0)
    assert figures["Retrieval-Augmented Generation"].demand_pct == 75.0
    # LangGraph: in no earlier ad, now in six of twelve: a new, emerging skill.
    assert figures["Agentic AI Frameworks"].demand_pct == 50.0
    assert figures["Agentic AI Frameworks"].is_emerging
    assert not figures["Python"].is_emerging

    reader = MarketReader(engine)
    comparison = await reader.compare("ai-engineer", TEAM, source="job ads, week")
    assert comparison is not None
    assert comparison.older.period_label == "2026-W14"
    assert comparison.newer.period_label == "2026-W15"
    changes = {change.name: change for change in comparison.skill_changes}
    assert changes["Retrieval-Augmented Generation"].demand.delta == 25.0
    assert comparison.newly_emerging[0].name == "Agentic AI Frameworks"
    assert comparison.has_changes

    stats = await reader.role_stats("ai-engineer", TEAM, source="job ads, week")
    assert stats is not None
    daily = stats.pay_for(PayKind.DAILY)
    assert daily is not None and daily.sample_size == 12
    assert daily.median == 637.5  # £500..£775 a day in £25 steps
    # Another workspace never sees this team's figures.
    assert await reader.role_stats("ai-engineer", "T_OTHER", source="job ads, week") is None


async def test_rolling_window_and_cooccurring_skills(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    rules = SnapshotRules(rolling_weeks=2, min_ads=10, min_base_ads=10)
    ingestor = Ingestor(empty_engine, team_id=TEAM, rules=rules)
    summary = await ingestor.ingest_postings(
        [
            write_csv(tmp_path / "w1.csv", week_one_ads()),
            write_jsonl(tmp_path / "w2.jsonl", week_two_ads()),
        ]
    )
    labels = sorted(result.period_label for result in summary.snapshots)
    assert labels == ["2 weeks to 2026-04-12", "2026-W14", "2026-W15"]
    rolling = await snapshot(empty_engine, "job ads, 2 weeks", "UK", WEEK_1)
    assert rolling.sample_size == 22
    figures = await skill_figures(empty_engine, rolling.id or 0)
    assert figures["Retrieval-Augmented Generation"].demand_pct == round(100 * 14 / 22, 1)
    async with session_factory(empty_engine)() as session:
        python = (await session.exec(select(Skill).where(Skill.name == "Python"))).one()
        rag = (
            await session.exec(select(Skill).where(Skill.name == "Retrieval-Augmented Generation"))
        ).one()
        pair = (
            await session.exec(
                select(SkillCooccurrence).where(
                    SkillCooccurrence.snapshot_id == rolling.id,
                    SkillCooccurrence.skill_id == rag.id,
                    SkillCooccurrence.other_skill_id == python.id,
                )
            )
        ).one()
    assert (pair.ads, pair.share_pct) == (14, 100.0)


async def test_candidates_give_supply_and_gaps(empty_engine: AsyncEngine, tmp_path: Path) -> None:
    ingestor = Ingestor(empty_engine, team_id=TEAM, rules=RULES)
    await ingestor.ingest_postings([write_csv(tmp_path / "w1.csv", week_one_ads())])
    candidates = [
        {
            "id": f"c{i}",
            "skills": ["Python", "pytorch"] if i < 4 else "Python; Docker",
            "date": "2026-04-02",
        }
        for i in range(8)
    ] + [{"id": "c-bad", "skills": [], "date": "2026-04-02"}]
    summary = await ingestor.ingest_candidates([write_jsonl(tmp_path / "people.jsonl", candidates)])
    assert (summary.stored, summary.bad_rows) == (8, 1)
    assert summary.snapshot_counts() == {StoreOutcome.REPLACED: 1}
    weekly = await snapshot(empty_engine, "job ads, week", "UK", WEEK_1)
    assert weekly.supply_sample_size == 8
    figures = await skill_figures(empty_engine, weekly.id or 0)
    assert figures["Python"].supply_pct == 100.0
    rag = figures["Retrieval-Augmented Generation"]
    assert (rag.demand_pct, rag.supply_pct, rag.is_gap) == (50.0, 0.0, True)
    assert await count(empty_engine, IngestedCandidate) == 8


async def test_worker_processes_give_the_same_figures(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    ads = week_one_ads() + week_two_ads()
    path = write_csv(tmp_path / "ads.csv", [*ads, dict(ads[0], id="repost")])
    parallel = await Ingestor(
        sqlite_engine, team_id="PARALLEL", rules=RULES, workers=2
    ).ingest_postings([path])
    inline = await Ingestor(
        sqlite_engine, team_id="INLINE", rules=RULES, workers=0
    ).ingest_postings([path])
    assert (parallel.stored, parallel.duplicates) == (inline.stored, inline.duplicates) == (22, 1)
    parallel_figures = await _figures_for(sqlite_engine, "PARALLEL")
    # Python, RAG, LLMs in W14; and Generative AI, LangGraph, its family and LLMs in W15
    assert len(parallel_figures) == 9
    assert parallel_figures == await _figures_for(sqlite_engine, "INLINE")


async def _figures_for(engine: AsyncEngine, team: str) -> list[tuple[object, ...]]:
    async with session_factory(engine)() as session:
        rows = (
            await session.exec(
                select(
                    MarketSnapshot.period_label,
                    Skill.name,
                    SkillFigure.demand_pct,
                    SkillFigure.is_emerging,
                )
                .join(SkillFigure, SkillFigure.snapshot_id == MarketSnapshot.id)  # type: ignore[arg-type]
                .join(Skill, Skill.id == SkillFigure.skill_id)  # type: ignore[arg-type]
                .where(MarketSnapshot.team_id == team)
            )
        ).all()
    return sorted(tuple(row) for row in rows)


async def test_cooccurring_skills_are_read_back_for_the_team_only(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    await Ingestor(empty_engine, team_id=TEAM, rules=RULES).ingest_postings(
        [write_csv(tmp_path / "w1.csv", week_one_ads())]
    )
    weekly = await snapshot(empty_engine, "job ads, week", "UK", WEEK_1)
    assert weekly.id is not None
    partners = await cooccurring_skills(
        empty_engine, weekly.id, TEAM, skill_slug="retrieval-augmented-generation"
    )
    # RAG is in ads 0-4, each of which also counts for its family, LLMs.
    assert [(p.other, p.ads, p.share_pct) for p in partners] == [
        ("Large Language Models", 5, 100.0),
        ("Python", 5, 100.0),
    ]
    python = await cooccurring_skills(empty_engine, weekly.id, TEAM, skill_slug="python")
    assert {(p.other, p.ads) for p in python} == {
        ("Large Language Models", 7),
        ("Retrieval-Augmented Generation", 5),
    }
    assert python[0].share_pct == 70.0
    assert await cooccurring_skills(empty_engine, weekly.id, "T_OTHER") == []


async def test_the_ad_store_tells_which_ads_it_kept(engine: AsyncEngine) -> None:
    # Statements of every size the store uses, all kept or not, on a table that already holds
    # rows: a kept ad is one stored now, by either key, and a repeat in a batch counts once.
    def ad(ad_key: str, content_key: str) -> tuple[object, ...]:
        return (
            "T1",
            ad_key,
            content_key,
            "2026-03-02",
            "AI Engineer",
            "ai-engineer",
            False,
            None,
            None,
            "python",
            pack_text("AI Engineer\nPython"),
        )

    async with transaction(engine) as session:
        store = await AdStore.open(session, newest_id=0)
        first = [ad(f"id:{n}", f"c{n}") for n in range(3000)]
        assert (await store.insert(first)).all()
        second = [
            ad("id:new1", "c5"),  # content known: not kept
            ad("id:new1", "cnew1"),  # same id again with new words: kept (first stored)
            ad("id:7", "cnew2"),  # id known: not kept
            ad("id:9", "c9"),  # the same ad as before: not kept
            ad("id:new2", "cnew3"),  # kept
            ad("id:new2", "cnew3"),  # a repeat within the batch: not kept again
            *[ad(f"id:more{n}", f"cmore{n}") for n in range(2100)],  # kept
            ad("id:more3", "cmore3"),  # stored earlier in this batch: not kept
        ]
        kept = await store.insert(second)
        await store.close()
        assert kept[:6].tolist() == [False, True, False, False, True, False]
        assert kept[6:-1].all()
        assert not kept[-1]
        stored = await session.exec(select(func.count()).select_from(IngestedAd))
        assert stored.one() == 3000 + 2 + 2100


async def test_progress_reports_bytes_and_ads_read_so_far(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    ads = week_one_ads() + week_two_ads()
    path = write_jsonl(tmp_path / "ads.jsonl", ads)
    size = path.stat().st_size
    reports: list[tuple[str, int, int, int]] = []
    ingestor = Ingestor(
        empty_engine,
        team_id=TEAM,
        rules=RULES,
        block_bytes=1024,  # several blocks, so several reports
        on_progress=lambda p, done, total, read: reports.append((p.name, done, total, read)),
    )
    await ingestor.ingest_postings([path])
    assert len(reports) > 2
    assert all(name == "ads.jsonl" and total == size for name, _, total, _ in reports)
    assert [done for _, done, _, _ in reports] == sorted(done for _, done, _, _ in reports)
    assert [read for *_, read in reports] == sorted(read for *_, read in reports)
    assert 0 < reports[0][3] < len(ads)
    assert reports[-1][1:] == (size, size, len(ads))

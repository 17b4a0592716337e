"""Re-extraction benchmark: `ingest reextract` of a big store after a taxonomy edit, against
the fresh ingest that built the store.

One run, one machine, so the ratio holds however busy the machine is. Seeded synthetic ads
(bench_ingest's snippet-sized CSV, or with `--kind full` its full-length JSON Lines ads of
about 1.6 KB each) are ingested into a new SQLite store under the taxonomy
as it was before an edit (timed: the baseline). The edit is the one issue 12 made: before
it, each specific skill's spellings were aliases of its first family ("aws" read as Cloud
Platforms, "pytorch" as Deep Learning); after it, the shipped taxonomy, each is a skill of
its own. Then `reextract_stored_ads` reads every stored ad's text again with the shipped
taxonomy, stores the skills that changed and recomputes every window they touch (timed).
The issue's target: the re-extraction within 2x the fresh ingest.

    .venv/bin/python bench/bench_reextract.py --ads 1000000
    .venv/bin/python bench/bench_reextract.py --ads 1000000 --kind full
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_ingest import generate, generate_full_length  # noqa: E402
from db.engine import create_engine  # noqa: E402
from db.ingest.pipeline import Ingestor  # noqa: E402
from db.ingest.reextract import reextract_stored_ads  # noqa: E402
from db.startup import prepare  # noqa: E402
from db.taxonomy import Taxonomy, load_taxonomy  # noqa: E402


def before_the_edit(taxonomy: Taxonomy) -> Taxonomy:
    """The taxonomy with every specific skill (a member of a family, itself no family) folded
    into its first family: the member matches nothing, its family matches its spellings."""
    families = taxonomy.family_slugs()
    folded = {
        skill.name: skill.parents[0]
        for skill in taxonomy.skills
        if skill.parents and skill.slug not in families
    }
    gained: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for skill in taxonomy.skills:
        if skill.name in folded:
            aliases, exact = gained.get(folded[skill.name], ((), ()))
            gained[folded[skill.name]] = ((*aliases, *skill.aliases), (*exact, *skill.exact))
    skills = []
    for skill in taxonomy.skills:
        if skill.name in folded:
            skill = replace(skill, aliases=(), exact=())
        elif skill.name in gained:
            aliases, exact = gained[skill.name]
            skill = replace(skill, aliases=(*skill.aliases, *aliases), exact=(*skill.exact, *exact))
        skills.append(skill)
    print(f"taxonomy before the edit: {len(folded):,} specific skills folded into their families")
    return replace(taxonomy, skills=tuple(skills), version=taxonomy.version - 1)


async def fresh_ingest(path: Path, database: Path, taxonomy: Taxonomy) -> float:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await prepare(engine)
        started = time.perf_counter()
        summary = await Ingestor(engine, team_id="TBENCH", taxonomy=taxonomy).ingest_postings(
            [path]
        )
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(f"fresh ingest: {summary.stored:,} ads stored, {len(summary.snapshots):,} snapshots")
    return elapsed


def stored_text_bytes(database: Path) -> tuple[int, int]:
    """Ads stored, and the bytes of their packed texts."""
    with sqlite3.connect(database) as connection:
        ads, size = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(packed_text)), 0) FROM ingested_ads"
        ).fetchone()
    return int(ads), int(size)


async def reextract(database: Path) -> float:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        started = time.perf_counter()
        summary = await reextract_stored_ads(engine)
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    outcomes: dict[str, int] = {}
    for result in summary.snapshots:
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    print(
        f"reextract: {summary.ads_read:,} ads read, {summary.ads_changed:,} changed, "
        f"{summary.ads_without_text:,} without text, snapshots {outcomes}"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=("snippets", "full"), default="snippets")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "store.db"
        if arguments.kind == "full":
            path = Path(folder) / "ads.jsonl"
            generate_full_length(path, arguments.ads)
        else:
            path = Path(folder) / "ads.csv"
            generate(path, arguments.ads)
        ingest_seconds = asyncio.run(fresh_ingest(path, database, before_the_edit(load_taxonomy())))
        ads, text_bytes = stored_text_bytes(database)
        print(
            f"store: {database.stat().st_size / ads:,.0f} bytes per ad on disk, of which "
            f"{text_bytes / ads:,.0f} of packed text"
        )
        reextract_seconds = asyncio.run(reextract(database))
    print(
        f"{arguments.ads:,} {arguments.kind} ads: fresh ingest {ingest_seconds:.1f}s "
        f"({arguments.ads / ingest_seconds:,.0f} ads/s), reextract {reextract_seconds:.1f}s "
        f"({arguments.ads / reextract_seconds:,.0f} ads/s); reextract / ingest = "
        f"{reextract_seconds / ingest_seconds:.2f} (target <= 2.00)"
    )


if __name__ == "__main__":
    main()

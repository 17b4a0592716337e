"""Re-extraction benchmark: `ingest reextract` of a big store against a fresh ingest of it.

One run, one machine, so the ratio holds however busy the machine is: seeded synthetic ads
(bench_ingest's snippet-sized CSV) are ingested into a new SQLite store (timed: the
baseline); then every stored ad is set back to what a taxonomy without families stored (the
families above its skills removed; not timed), and `reextract_stored_ads` reads every ad
again, adds the families back and recomputes every window that changed (timed). The issue's
target: the re-extraction within 2x the fresh ingest.

    .venv/bin/python bench/bench_reextract.py --ads 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_ingest import generate  # noqa: E402
from db.engine import create_engine  # noqa: E402
from db.ingest.pipeline import Ingestor  # noqa: E402
from db.ingest.reextract import reextract_stored_ads  # noqa: E402
from db.startup import prepare  # noqa: E402
from db.taxonomy import load_taxonomy  # noqa: E402


async def fresh_ingest(path: Path, database: Path) -> float:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await prepare(engine)
        started = time.perf_counter()
        summary = await Ingestor(engine, team_id="TBENCH").ingest_postings([path])
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(f"fresh ingest: {summary.stored:,} ads stored, {len(summary.snapshots):,} snapshots")
    return elapsed


def strip_families(database: Path) -> int:
    """Store every ad as a taxonomy without families would have: no family slugs."""
    families = load_taxonomy().family_slugs()
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, skills FROM ingested_ads").fetchall()
        changed = []
        for row_id, skills in rows:
            kept = "|".join(s for s in skills.split("|") if s and s not in families)
            if kept != skills:
                changed.append((kept, row_id))
        connection.executemany("UPDATE ingested_ads SET skills = ? WHERE id = ?", changed)
    return len(changed)


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
        f"snapshots {outcomes}"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ads", type=int, default=1_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ads.csv"
        database = Path(folder) / "store.db"
        generate(path, arguments.ads)
        ingest_seconds = asyncio.run(fresh_ingest(path, database))
        stripped = strip_families(database)
        print(f"set back to a taxonomy without families: {stripped:,} ads")
        reextract_seconds = asyncio.run(reextract(database))
    print(
        f"{arguments.ads:,} ads: fresh ingest {ingest_seconds:.1f}s "
        f"({arguments.ads / ingest_seconds:,.0f} ads/s), reextract {reextract_seconds:.1f}s "
        f"({arguments.ads / reextract_seconds:,.0f} ads/s); reextract / ingest = "
        f"{reextract_seconds / ingest_seconds:.2f} (target <= 2.00)"
    )


if __name__ == "__main__":
    main()

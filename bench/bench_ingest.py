"""Ingestion benchmark: seeded synthetic job ads ingested end to end, and extraction vs a baseline.

Prints ads/s end to end (target >= 20,000 on a 2-core machine), the ingesting process's
peak memory (target < 500 MB), and skill extraction alone against a naive loop of one
case-insensitive regex per alias on the same ads, with the ratio.

    .venv/bin/python bench/bench_ingest.py             # 1,000,000 ads
    .venv/bin/python bench/bench_ingest.py --ads 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.engine import create_engine, prepare  # noqa: E402
from db.ingest.extract import NaiveExtractor, SkillExtractor  # noqa: E402
from db.ingest.pipeline import Ingestor  # noqa: E402
from db.ingest.taxonomy import load_taxonomy  # noqa: E402

TITLES = [
    "AI Engineer",
    "Senior AI Engineer",
    "Lead AI Engineer",
    "LLM Engineer",
    "GenAI Engineer",
    "Machine Learning Engineer",
    "Senior Machine Learning Engineer",
    "MLOps Engineer",
    "Data Engineer",
    "Senior Data Engineer",
    "Data Scientist",
    "Software Engineer",
    "Backend Engineer",
    "Head of AI",
    "AI Product Manager",
]
FILLER = [
    "We are a growing team with a friendly culture and flexible hybrid working.",
    "You will work closely with product and design to ship features users love.",
    "Our R&D group is expanding and our go-to-market plans are ambitious.",
    "Benefits include 30 days holiday, pension and a learning budget.",
    "You will report to the Head of Engineering and present to the C-suite.",
    "Projects are tracked with a RAG status in our weekly review.",
    "Join us to spark ideas and go the extra mile for our customers.",
]
SKILL_SENTENCES = [
    "Strong {a} and {b} experience is essential.",
    "You will build services with {a}, {b} and {c}.",
    "Experience with {a} or {b} is a plus.",
    "Day to day you will use {a} and {b}.",
]
SALARIES = [
    "£{k}k",
    "£{lo},000 - £{hi},000 per annum",
    "up to £{hi}k + bonus",
    "competitive",
    "£{day}/day inside IR35",
    "£{day} per day",
    "£{hour} per hour",
    "",
]
LOCATIONS = ["London, UK", "Manchester", "Leeds", "Remote, UK", "Bristol", "London"]
COLUMNS = ["id", "title", "description", "created", "location", "company", "salary"]


def generate(path: Path, ads: int, seed: int = 20260401) -> None:
    """A CSV of synthetic ads: Adzuna-snippet-sized descriptions, 26 weeks, 2% reposts."""
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    # Mention popular skills far more than the long tail, as real ads do.
    phrases = [s.name for s in taxonomy.skills if s.name[0].isalpha()]
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(phrases))]
    start = date(2025, 10, 6)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        previous: list[str] | None = None
        for number in range(ads):
            if previous is not None and rng.random() < 0.02:
                row = [f"r{number}", *previous[1:]]  # the same ad reposted under a new id
            else:
                sentences = [rng.choice(FILLER)]
                for _ in range(2):
                    a, b, c = rng.choices(phrases, weights, k=3)
                    sentences.append(rng.choice(SKILL_SENTENCES).format(a=a, b=b, c=c))
                sentences.append(rng.choice(FILLER))
                rng.shuffle(sentences)
                low = rng.randrange(45, 110)
                salary = rng.choice(SALARIES).format(
                    k=low,
                    lo=low,
                    hi=low + rng.randrange(5, 25),
                    day=rng.randrange(40, 90) * 10,
                    hour=rng.randrange(40, 120),
                )
                row = [
                    str(number),
                    rng.choice(TITLES),
                    " ".join(sentences) + f" Ref {number}.",
                    (start + timedelta(days=rng.randrange(26 * 7))).isoformat(),
                    rng.choice(LOCATIONS),
                    f"Company {rng.randrange(5000)}",
                    salary,
                ]
            writer.writerow(row)
            previous = row


async def ingest(path: Path, database: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await prepare(engine)
        started = time.perf_counter()
        summary = await Ingestor(engine, team_id="TBENCH").ingest_postings([path])
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(
        f"child: {summary.rows} rows, {summary.stored} stored, {summary.duplicates} duplicates, "
        f"{len(summary.snapshots)} snapshots in {elapsed:.1f}s",
        flush=True,
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"MEMORY {own} {workers}")
    print(f"ELAPSED {elapsed}")


def extraction_comparison(path: Path, sample: int) -> tuple[float, float]:
    texts = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            texts.append(f"{row[1]}\n{row[2]}")
            if len(texts) >= sample:
                break
    taxonomy = load_taxonomy()
    fast, naive = SkillExtractor(taxonomy), NaiveExtractor(taxonomy)
    started = time.perf_counter()
    for text in texts:
        fast.skill_slugs(text)
    fast_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        naive.skill_slugs(text)
    naive_seconds = time.perf_counter() - started
    return fast_seconds / len(texts), naive_seconds / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="ads in the extraction race")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(ingest(Path(args.child[0]), Path(args.child[1])))
        return
    with tempfile.TemporaryDirectory(prefix="skillgap-bench-") as folder:
        csv_path = Path(folder) / "ads.csv"
        started = time.perf_counter()
        generate(csv_path, args.ads)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.ads:,} ads ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f}s"
        )
        # The ingest runs in its own process so its peak memory is measured alone.
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(csv_path), str(Path(folder) / "s.db")],
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = float(child.stdout.split("ELAPSED ")[1])
        peak_mb, worker_mb = (float(x) for x in child.stdout.split("MEMORY ")[1].split()[:2])
        print(child.stdout.split("MEMORY")[0].strip())
        rate = args.ads / elapsed
        fast, naive = extraction_comparison(csv_path, args.sample)
    print(f"end to end: {rate:,.0f} ads/s (target >= 20,000)")
    print(
        f"peak memory: ingesting process {peak_mb:,.0f} MB (target < 500 MB); "
        f"each parsing worker at most {worker_mb:,.0f} MB"
    )
    print(
        f"extraction alone on {args.sample:,} ads: {fast * 1e6:,.1f} us/ad; naive per-alias "
        f"regex loop: {naive * 1e6:,.1f} us/ad; ratio {naive / fast:,.1f}x faster"
    )


if __name__ == "__main__":
    main()

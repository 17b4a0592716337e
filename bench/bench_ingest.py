"""Ingestion benchmark: seeded synthetic job ads ingested end to end, and extraction vs a baseline.

Prints ads/s end to end (target >= 20,000 on a 2-core machine) through the code path of
`skillgap ingest postings`, the CPU time the whole process tree spent per ad, the peak
memory of the whole tree (the ingesting process and its parsing workers, target < 500 MB),
and skill extraction alone against a naive loop of one case-insensitive regex per alias on
the same ads, with the ratio.

    .venv/bin/python bench/bench_ingest.py             # 1,000,000 ads
    .venv/bin/python bench/bench_ingest.py --ads 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.engine import create_engine  # noqa: E402
from db.ingest.extract import NaiveExtractor, SkillExtractor  # noqa: E402
from db.ingest.parse_worker import peak_memory_mb  # noqa: E402
from db.ingest.pipeline import Ingestor  # noqa: E402
from db.ingest.taxonomy import load_taxonomy  # noqa: E402
from db.startup import prepare  # noqa: E402

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
        cpu_started = _cpu_seconds()
        summary = await Ingestor(engine, team_id="TBENCH").ingest_postings([path])
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started  # this process and its (finished) workers
    finally:
        await engine.dispose()
    print(
        f"child: {summary.rows} rows, {summary.stored} stored, {summary.duplicates} duplicates, "
        f"{len(summary.snapshots)} snapshots in {elapsed:.1f}s",
        flush=True,
    )
    own = peak_memory_mb()  # VmHWM: not the pages of the parent it was forked from
    workers = " ".join(f"{peak:.1f}" for peak in summary.worker_peaks_mb)
    print(f"MEMORY {own} {workers}")
    print(f"CPU {cpu}")
    print(f"ELAPSED {elapsed}")


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TreeMemory:
    """Samples the resident memory of a process and all its descendants, summed (Linux)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.sample())
            self._stop.wait(self.every)

    def sample(self) -> float:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                    parents[int(entry)] = int(fields[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree = {self.pid}
        grew = True
        while grew:
            grew = False
            for child, parent in parents.items():
                if parent in tree and child not in tree:
                    tree.add(child)
                    grew = True
        total_kb = 0
        for pid in tree:
            try:
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            total_kb += int(line.split()[1])
                            break
            except OSError:
                continue
        return total_kb / 1024


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
        # The ingest runs in its own process so its memory (and its workers') is measured
        # alone: sampled as the sum over the process tree while it runs, and as the sum of
        # each process's own peak (an upper bound: the peaks need not coincide).
        command = [sys.executable, __file__, "--child", str(csv_path), str(Path(folder) / "s.db")]
        with (
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child,
            TreeMemory(child.pid) as tree,
        ):
            output, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"the ingest failed ({child.returncode})")
        elapsed = float(output.split("ELAPSED ")[1])
        cpu = float(output.split("CPU ")[1].split()[0])
        peaks = [float(x) for x in output.split("MEMORY ")[1].split("\n")[0].split()]
        print(output.split("MEMORY")[0].strip())
        rate = args.ads / elapsed
        fast, naive = extraction_comparison(csv_path, args.sample)
    print(f"end to end: {rate:,.0f} ads/s (target >= 20,000)")
    print(
        f"CPU time of the process tree: {cpu:.1f}s, {cpu / args.ads * 1e6:.1f} us/ad "
        f"({args.ads / cpu:,.0f} ads per CPU-second; {os.cpu_count()} cores here)"
    )
    workers = peaks[1:]
    print(
        f"peak memory of the whole process tree: {tree.peak_mb:,.0f} MB sampled every 50 ms; "
        f"sum of each process's own peak {sum(peaks):,.0f} MB (ingesting process "
        f"{peaks[0]:,.0f} MB + {len(workers)} parsing workers "
        f"{' + '.join(f'{w:,.0f}' for w in workers) or '0'} MB) (target < 500 MB)"
    )
    print(
        f"extraction alone on {args.sample:,} ads: {fast * 1e6:,.1f} us/ad; naive per-alias "
        f"regex loop: {naive * 1e6:,.1f} us/ad; ratio {naive / fast:,.1f}x faster"
    )


if __name__ == "__main__":
    main()

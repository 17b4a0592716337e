"""Ingestion benchmark: seeded synthetic job ads ingested end to end, and extraction vs a baseline.

Two kinds of ads, each through the code path of `skillgap ingest postings`:

* full length (JSON Lines, about 1.6 KB of description each, with everyday words that look
  like skills: "go live", "spark ideas", "R&D", "excel at"), as real exports and feeds are.
  Beside it, in the same run, the least a skill counter does per ad (parse the line,
  lower-case it, one regex alternation of the aliases, count): issue 15's targets are
  >= 2x that counter end to end, >= 16,000 ads/s, >= 25 MB/s, peak memory < 400 MB.
* snippets (CSV, Adzuna-snippet-sized descriptions of ~300 bytes): target >= 20,000 ads/s
  and peak memory < 500 MB.

For each: ads/s and MB/s end to end, the CPU time of the whole process tree per ad, the peak
memory of the tree (the ingesting process and its parsing workers), and skill extraction
alone against a naive loop of one case-insensitive regex per alias, with the ratio.

    .venv/bin/python bench/bench_ingest.py                       # both kinds
    .venv/bin/python bench/bench_ingest.py --kind full --full-ads 100000
    .venv/bin/python bench/bench_ingest.py --kind snippets --ads 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.engine import create_engine  # noqa: E402
from db.ingest.extract import NaiveExtractor, SkillExtractor  # noqa: E402
from db.ingest.parse_worker import peak_memory_mb  # noqa: E402
from db.ingest.pipeline import Ingestor  # noqa: E402
from db.startup import prepare  # noqa: E402
from db.taxonomy import load_taxonomy  # noqa: E402

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


# Ordinary words of ads, some of which look like skills written in lower case or in context.
EVERYDAY_TEXT = (
    "we are looking for an engineer to join our growing team and help us build products that "
    "customers love you will work closely with product design and data colleagues in a "
    "collaborative culture with flexible hybrid working generous holiday a learning budget and "
    "a clear path to progression go live go to market spark ideas c-suite r&d excel at swift "
    "delivery maintain domain laws draws html yaml rust belt ray of light"
)
EVERYDAY = EVERYDAY_TEXT.split()
FULL_SALARIES = [
    "£{lo},000 - £{hi},000 per annum",
    "£{lo}k + bonus",
    "Up to £{hi},000",
    "£{day} per day inside IR35",
    "£{day}-{day_hi}/day outside IR35",
    "Competitive",
    "",
    "£{hour} per hour",
]


def _skill_names() -> list[str]:
    """Ways ads name the taxonomy's skills, most mentioned first."""
    skills = load_taxonomy().skills
    return [alias for s in skills for alias in (s.name, *s.aliases[:2], *s.exact[:1])]


def generate_full_length(path: Path, ads: int, seed: int = 20261202) -> None:
    """JSON Lines of full-length ads over 13 weeks: 150-300 everyday words, 4-12 skills."""
    rng = random.Random(seed)
    names = _skill_names()
    weights = [1.0 / (1 + i) ** 0.5 for i in range(len(names))]
    start = date(2026, 6, 1)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(ads):
            words = rng.choices(EVERYDAY, k=rng.randint(150, 300))
            for skill in rng.choices(names, weights, k=rng.randint(4, 12)):
                words.insert(rng.randrange(len(words)), skill)
            low = rng.randrange(45, 110)
            day = rng.randrange(400, 800)
            salary = rng.choice(FULL_SALARIES).format(
                lo=low, hi=low + rng.randrange(5, 30), day=day, day_hi=day + 100, hour=low
            )
            ad = {
                "id": f"F{number:08d}",
                "title": rng.choice(TITLES),
                "company": f"Company {rng.randrange(5000)}",
                "location": rng.choice(LOCATIONS),
                "created": (start + timedelta(days=rng.randrange(13 * 7))).isoformat(),
                "contract_type": "contract" if "day" in salary or "hour" in salary else "",
                "salary": salary,
                "description": " ".join(words),
            }
            handle.write(json.dumps(ad) + "\n")


def counter_baseline(path: Path) -> float:
    """Ads/s of the least a skill counter does per ad, in one process: parse the line,
    lower-case title and description, one regex alternation, count. The alternation holds the
    40 skills the generator mentions most, as the shared yardstick's counter holds its 41."""
    aliases = sorted({name.lower() for name in _skill_names()[:40]}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w+#])(" + "|".join(map(re.escape, aliases)) + r")(?![\w+#])")
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    ads = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            ad = json.loads(line)
            counts.update(set(pattern.findall((ad["title"] + " " + ad["description"]).lower())))
            ads += 1
    return ads / (time.perf_counter() - started)


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
        if path.suffix == ".jsonl":
            for line in handle:
                ad = json.loads(line)
                texts.append(f"{ad['title']}\n{ad['description']}")
                if len(texts) >= sample:
                    break
        else:
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


def run(kind: str, ads: int, sample: int, folder: Path) -> None:
    """Generate `ads` ads of one kind, ingest them in a child process, print the figures."""
    full = kind == "full"
    path = Path(folder) / ("ads.jsonl" if full else "ads.csv")
    started = time.perf_counter()
    (generate_full_length if full else generate)(path, ads)
    size_mb = path.stat().st_size / 1e6
    print(
        f"\n{kind}: generated {ads:,} ads ({size_mb:.0f} MB, "
        f"{size_mb * 1e6 / ads:,.0f} bytes each) in {time.perf_counter() - started:.1f}s"
    )
    # The ingest runs in its own process so its memory (and its workers') is measured alone:
    # sampled as the sum over the process tree while it runs, and as the sum of each
    # process's own peak (an upper bound: the peaks need not coincide).
    database = Path(folder) / f"{kind}.db"
    command = [sys.executable, __file__, "--child", str(path), str(database)]
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
    rate, megabytes = ads / elapsed, size_mb / elapsed
    if full:
        baseline = counter_baseline(path)
        print(
            f"end to end: {rate:,.0f} ads/s, {megabytes:.1f} MB/s "
            f"(targets >= 16,000 ads/s, >= 25 MB/s)"
        )
        print(
            f"one-process regex counter on the same file: {baseline:,.0f} ads/s; "
            f"ingest/counter {rate / baseline:.2f}x (target >= 2x)"
        )
    else:
        print(f"end to end: {rate:,.0f} ads/s, {megabytes:.1f} MB/s (target >= 20,000 ads/s)")
    print(
        f"CPU time of the process tree: {cpu:.1f}s, {cpu / ads * 1e6:.1f} us/ad "
        f"({ads / cpu:,.0f} ads per CPU-second; {os.cpu_count()} cores here)"
    )
    workers = peaks[1:]
    print(
        f"peak memory of the whole process tree: {tree.peak_mb:,.0f} MB sampled every 50 ms; "
        f"sum of each process's own peak {sum(peaks):,.0f} MB (ingesting process "
        f"{peaks[0]:,.0f} MB + {len(workers)} parsing workers "
        f"{' + '.join(f'{w:,.0f}' for w in workers) or '0'} MB) "
        f"(target < {400 if full else 500} MB)"
    )
    fast, naive = extraction_comparison(path, sample)
    print(
        f"extraction alone on {sample:,} ads: {fast * 1e6:,.1f} us/ad; naive per-alias "
        f"regex loop: {naive * 1e6:,.1f} us/ad; ratio {naive / fast:,.1f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("both", "full", "snippets"), default="both")
    parser.add_argument("--ads", type=int, default=1_000_000, help="snippet ads")
    parser.add_argument("--full-ads", type=int, default=100_000, help="full-length ads")
    parser.add_argument("--sample", type=int, default=300, help="ads in the extraction race")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(ingest(Path(args.child[0]), Path(args.child[1])))
        return
    with tempfile.TemporaryDirectory(prefix="skillgap-bench-") as folder:
        if args.kind in ("both", "full"):
            run("full", args.full_ads, args.sample, Path(folder))
        if args.kind in ("both", "snippets"):
            run("snippets", args.ads, args.sample, Path(folder))


if __name__ == "__main__":
    main()

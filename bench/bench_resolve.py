"""Benchmark: resolving a 30-term skills check against 10,000 skills with 50,000 aliases.

Prints p50/p99 latency of one whole check (split, filler, exact/alias, fuzzy) for SkillGap's
NameIndex and for a plain difflib resolver measured in the same run, and the ratio.
Target: p99 under 20 ms per check.  Run: .venv/bin/python bench/bench_resolve.py
"""

from __future__ import annotations

import difflib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db.names import normalize_name, slugify
from db.resolve import FUZZY_CUTOFF, Candidate, NameIndex, split_terms

SKILLS = 10_000
ALIASES = 50_000
EXACT_TERMS = 20
MISSPELLED_TERMS = 10
CHECKS = 300
BASELINE_CHECKS = 8
TARGET_P99_MS = 20.0

_SYLLABLES = [
    "py",
    "ja",
    "va",
    "script",
    "ku",
    "ber",
    "net",
    "es",
    "tor",
    "ch",
    "flow",
    "lang",
    "chain",
    "data",
    "base",
    "spark",
    "kaf",
    "ka",
    "air",
    "graph",
    "ql",
    "re",
    "act",
    "vue",
    "node",
    "rust",
    "go",
    "scala",
    "ruby",
    "swift",
    "kot",
    "lin",
    "sol",
    "id",
    "mongo",
    "redis",
    "post",
    "gres",
    "cloud",
    "form",
    "ter",
    "ops",
    "dev",
    "ml",
    "ai",
    "vec",
    "tor",
    "index",
    "llama",
    "hug",
    "face",
    "deep",
    "mind",
    "net",
    "work",
    "stream",
    "batch",
    "sense",
    "core",
    "logic",
    "pipe",
    "line",
    "query",
    "store",
    "cache",
    "edge",
    "mesh",
    "grid",
    "sync",
    "auto",
    "scale",
    "byte",
    "quant",
    "nova",
    "flux",
    "wave",
    "beam",
]
_WORDS = [
    "engineering",
    "analysis",
    "design",
    "testing",
    "platform",
    "framework",
    "modelling",
    "security",
    "operations",
    "architecture",
    "optimisation",
    "deployment",
    "monitoring",
    "automation",
    "integration",
    "management",
    "evaluation",
    "inference",
    "training",
    "retrieval",
    "search",
    "learning",
    "vision",
    "language",
    "systems",
]


def synthetic_taxonomy(seed: int = 7) -> list[tuple[str, list[str]]]:
    """10,000 distinct skill names with 50,000 distinct aliases, shaped like real ones."""
    rng = random.Random(seed)
    taken: set[str] = set()

    def claim(text: str) -> bool:
        key = normalize_name(text)
        if not key or key in taken:
            return False
        taken.add(key)
        return True

    def pseudo_word() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))

    skills: list[tuple[str, list[str]]] = []
    while len(skills) < SKILLS:
        shape = rng.random()
        if shape < 0.4:
            name = pseudo_word().capitalize()
        elif shape < 0.8:
            name = f"{pseudo_word().capitalize()} {rng.choice(_WORDS).capitalize()}"
        else:
            name = f"{pseudo_word().capitalize()} {pseudo_word()} {rng.choice(_WORDS)}"
        if claim(name):
            skills.append((name, []))
    aliases_made = 0
    while aliases_made < ALIASES:
        name, aliases = skills[rng.randrange(SKILLS)]
        words = name.split()
        options = [
            f"{name}.js",
            f"{name} v{rng.randint(1, 9)}",
            "".join(words),
            "".join(w[0] for w in words) + pseudo_word()[:2],
            f"{words[0]} {rng.choice(_WORDS)}",
            f"{pseudo_word()} {words[-1]}",
            f"{name} {rng.choice(['framework', 'toolkit', 'sdk', 'api', 'cloud'])}",
        ]
        alias = rng.choice(options)
        if claim(alias):
            aliases.append(alias)
            aliases_made += 1
    return skills


def misspell(word: str, rng: random.Random) -> str:
    """One typing slip: a dropped, doubled, swapped or wrong letter."""
    position = rng.randrange(1, len(word) - 1)
    slip = rng.choice(["drop", "double", "swap", "wrong"])
    if slip == "drop":
        return word[:position] + word[position + 1 :]
    if slip == "double":
        return word[:position] + word[position] + word[position:]
    if slip == "swap":
        return word[: position - 1] + word[position] + word[position - 1] + word[position + 1 :]
    return word[:position] + rng.choice("aeiourstn") + word[position + 1 :]


def check_texts(
    taxonomy: list[tuple[str, list[str]]], count: int, seed: int = 11
) -> list[tuple[str, list[str]]]:
    """Skill lists of 20 exact/alias terms and 10 misspelled names, with the intended slugs."""
    rng = random.Random(seed)
    long_names = [(n, a) for n, a in taxonomy if len(n) >= 8]
    texts = []
    for _ in range(count):
        terms, intended = [], []
        for _ in range(EXACT_TERMS):
            name, aliases = rng.choice(taxonomy)
            terms.append(rng.choice([name, *aliases]) if aliases else name)
            intended.append(slugify(name))
        for _ in range(MISSPELLED_TERMS):
            name, _aliases = rng.choice(long_names)
            terms.append(misspell(name, rng))
            intended.append(slugify(name))
        texts.append((", ".join(terms), intended))
    return texts


class DifflibResolver:
    """The plain baseline: dictionary lookup, then difflib's close matches over every name."""

    def __init__(self, taxonomy: list[tuple[str, list[str]]]) -> None:
        self.owner: dict[str, str] = {}
        for name, aliases in taxonomy:
            for text in (name, *aliases):
                self.owner.setdefault(normalize_name(text), slugify(name))
        self.keys = list(self.owner)

    def check(self, text: str) -> list[str | None]:
        found: list[str | None] = []
        for term in split_terms(text):
            query = normalize_name(term)
            if query in self.owner:
                found.append(self.owner[query])
                continue
            close = difflib.get_close_matches(query, self.keys, n=1, cutoff=FUZZY_CUTOFF / 100)
            found.append(self.owner[close[0]] if close else None)
        return found


def measure(
    check: Callable[[str], list[str | None]], texts: list[tuple[str, list[str]]], runs: int
) -> tuple[list[float], float, int]:
    """Milliseconds per check, the share of terms resolved as intended, and wrong guesses."""
    timings, right, total, wrong = [], 0, 0, 0
    for number in range(runs):
        text, intended = texts[number % len(texts)]
        started = time.perf_counter()
        found = check(text)
        timings.append((time.perf_counter() - started) * 1000)
        right += sum(1 for got, want in zip(found, intended, strict=False) if got == want)
        wrong += sum(
            1 for got, want in zip(found, intended, strict=False) if got not in (None, want)
        )
        total += len(intended)
    return timings, right / total, wrong


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    taxonomy = synthetic_taxonomy()
    started = time.perf_counter()
    index = NameIndex([(Candidate(slugify(n), n), a) for n, a in taxonomy])
    build_ms = (time.perf_counter() - started) * 1000
    baseline = DifflibResolver(taxonomy)
    # A fresh list for every check: nothing is answered from an earlier one.
    texts = check_texts(taxonomy, CHECKS + 1)

    def ours(text: str) -> list[str | None]:
        return [r.match.slug if r.match else None for r in index.resolve_terms(text).resolutions]

    ours(texts[-1][0])  # warm up (imports, allocator), as a running app would be
    our_times, our_accuracy, our_wrong = measure(ours, texts[:CHECKS], CHECKS)
    base_times, base_accuracy, base_wrong = measure(baseline.check, texts, BASELINE_CHECKS)

    names = sum(1 + len(a) for _, a in taxonomy)
    print(f"taxonomy: {len(taxonomy):,} skills, {names - len(taxonomy):,} aliases")
    print(f"check: {EXACT_TERMS} exact/alias + {MISSPELLED_TERMS} misspelled terms")
    print(f"index build (once per process / data change): {build_ms:,.0f} ms")
    print(
        f"SkillGap NameIndex ({CHECKS} checks): p50 {percentile(our_times, 0.5):.2f} ms, "
        f"p99 {percentile(our_times, 0.99):.2f} ms, terms right {our_accuracy:.1%}, "
        f"wrong guesses {our_wrong} (the rest are asked back as ties)"
    )
    print(
        f"difflib baseline ({BASELINE_CHECKS} checks): p50 {percentile(base_times, 0.5):.1f} ms,"
        f" p99 {percentile(base_times, 0.99):.1f} ms, terms right {base_accuracy:.1%}, "
        f"wrong guesses {base_wrong}"
    )
    ratio = percentile(base_times, 0.99) / percentile(our_times, 0.99)
    print(f"ratio (difflib p99 / SkillGap p99): {ratio:.0f}x faster")
    verdict = "met" if percentile(our_times, 0.99) < TARGET_P99_MS else "MISSED"
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()

"""Turns what people type into known roles and skills: exact, alias, then fuzzy, never a guess."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from db.importers.document import normalize_name

# Below this a fuzzy match is no match; two candidates this close to each other are a tie
# that the person must settle ("Did you mean …?").
FUZZY_CUTOFF = 82.0
AMBIGUITY_MARGIN = 4.0
MAX_SUGGESTIONS = 5


class MatchKind(StrEnum):
    EXACT = "exact"
    ALIAS = "alias"
    FUZZY = "fuzzy"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Candidate:
    """A role or skill a name can resolve to."""

    slug: str
    name: str


@dataclass(frozen=True)
class Resolution:
    query: str
    kind: MatchKind
    match: Candidate | None = None
    suggestions: tuple[Candidate, ...] = ()

    @property
    def found(self) -> bool:
        return self.match is not None


class NameIndex:
    """Names and aliases of one kind of thing (roles or skills), ready to resolve against."""

    def __init__(self, entries: Iterable[tuple[Candidate, Iterable[str]]]) -> None:
        self._by_name: dict[str, Candidate] = {}
        self._by_alias: dict[str, Candidate] = {}
        for candidate, aliases in entries:
            self._by_name.setdefault(normalize_name(candidate.name), candidate)
            self._by_name.setdefault(normalize_name(candidate.slug.replace("-", " ")), candidate)
            for alias in aliases:
                normalized = normalize_name(alias)
                if normalized:
                    self._by_alias.setdefault(normalized, candidate)
        self._choices = list({**self._by_alias, **self._by_name}.items())
        self._choice_keys = [key for key, _ in self._choices]

    def __len__(self) -> int:
        return len({candidate.slug for _, candidate in self._choices})

    def resolve(self, text: str) -> Resolution:
        query = normalize_name(text)
        if not query:
            return Resolution(text, MatchKind.UNKNOWN)
        if query in self._by_name:
            return Resolution(text, MatchKind.EXACT, self._by_name[query])
        if query in self._by_alias:
            return Resolution(text, MatchKind.ALIAS, self._by_alias[query])
        return self._fuzzy(text, query)

    def _fuzzy(self, text: str, query: str) -> Resolution:
        scored = process.extract(
            query, self._choice_keys, scorer=_score, limit=MAX_SUGGESTIONS * 4, score_cutoff=50
        )
        best_by_slug: dict[str, tuple[float, Candidate]] = {}
        for _key, score, position in scored:
            candidate = self._choices[position][1]
            if candidate.slug not in best_by_slug or best_by_slug[candidate.slug][0] < score:
                best_by_slug[candidate.slug] = (float(score), candidate)
        ranked = sorted(best_by_slug.values(), key=lambda item: (-item[0], item[1].name))
        suggestions = tuple(candidate for _, candidate in ranked[:MAX_SUGGESTIONS])
        if not ranked or ranked[0][0] < FUZZY_CUTOFF:
            return Resolution(text, MatchKind.UNKNOWN, suggestions=suggestions)
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < AMBIGUITY_MARGIN:
            return Resolution(text, MatchKind.AMBIGUOUS, suggestions=suggestions)
        return Resolution(text, MatchKind.FUZZY, ranked[0][1], suggestions)


def _score(query: str, choice: str, *, score_cutoff: float | None = None) -> float:
    """Whole-string similarity, with a prefix bonus for abbreviations ("ai eng")."""
    whole = fuzz.ratio(query, choice)
    # "ai eng" -> "ai engineer": every word of the query starts a word of the choice, in order.
    query_words, choice_words = query.split(), choice.split()
    if (
        len(query) >= 3
        and len(query_words) == len(choice_words)
        and all(c.startswith(q) for q, c in zip(query_words, choice_words, strict=True))
    ):
        whole = max(whole, 90.0)
    return float(whole) if score_cutoff is None or whole >= score_cutoff else 0.0

"""Turns what people type into known roles and skills: exact, alias, then fuzzy, never a guess."""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
from rapidfuzz import fuzz, process

from db.names import normalize_name

# Below this a fuzzy match is no match; two candidates this close to each other are a tie
# that the person must settle ("Did you mean …?").
FUZZY_CUTOFF = 82.0
AMBIGUITY_MARGIN = 4.0
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 50.0
# Offered for a name that matched nothing only when this close: "Did you mean Linux?" for
# "quantum basket weaving" helps nobody.
RELEVANT_CUTOFF = 75.0
# Three letters or fewer ("r", "go", "jav") are too short to fuzz: one edit is a third of
# the word, so such terms must be a known name or alias.
MIN_FUZZY_LENGTH = 4

# Small indexes (the roles, a report's skills) are scanned whole; large taxonomies first pick
# candidates from a trigram index, because scoring every alias costs milliseconds per term.
SCAN_ALL_BELOW = 2_000
TRIGRAM_CANDIDATES = 48
# A ratio of at least FUZZY_CUTOFF is impossible when lengths differ more than this.
_LENGTH_FLOOR = FUZZY_CUTOFF / (200 - FUZZY_CUTOFF)
_LENGTH_CEILING = 1 / _LENGTH_FLOOR

# Free-text skill lists: how people separate terms, and the words around a skill that are
# about the person rather than the skill ("some", "5 years of", "experience with").
MAX_TERMS = 40
MAX_TEXT = 4_000
_SEPARATORS = re.compile(r"[,;\n\r\t|•·]+|(?:^|\s)[-*](?=\s)|\.\s+")
_FILLER = re.compile(
    r"^(?:"
    r"\d+\+?\s*(?:years?|yrs?|months?)(?:'|\s)*(?:of\s+)?(?:experience\s+)?(?:with|in|of)?"
    r"|(?:a\s+)?(?:little|bit|lot)(?:\s+of)?|lots\s+of|some|basic|basics\s+of|good|strong|solid"
    r"|advanced|intermediate|beginner|expert|deep|decent|working|professional|commercial"
    r"|production|hands[\s-]on|fluent|proficient|proficiency|familiar|familiarity|knowledge"
    r"|experience|experienced|exposure|skilled|skills|understanding|using|use|with|in|of|at"
    r"|i\s+know|i\s+have|i\s+use|i\s+am|also|plus|and|etc|e\.?g\.?|including"
    r")(?:\s+|$)",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"\s*(?:\((?:[^()]*)\)|\b(?:experience|skills?|basics|etc|knowledge|exposure)\b\.?)\s*$",
    re.IGNORECASE,
)
# Split only when a part is a known name: "AI Evaluation & Safety" is one skill.
_CONJUNCTIONS = re.compile(r"\s*/\s*|\s+(?:\+|&|and|or)\s+", re.IGNORECASE)
_PUNCTUATION = " \t.:!?\"'"


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


# Answers kept per index, by text as typed and by normalized text; the index is rebuilt (and
# they go) when the data changes.
MEMO_SIZE = 1_000


@dataclass(frozen=True)
class Resolution:
    query: str
    kind: MatchKind
    match: Candidate | None = None
    suggestions: tuple[Candidate, ...] = ()

    @property
    def found(self) -> bool:
        return self.match is not None


@dataclass(frozen=True)
class TermsResolution:
    """Every term of a free-text list, resolved; nothing dropped, nothing guessed."""

    resolutions: tuple[Resolution, ...]
    left_out: tuple[str, ...] = ()  # terms beyond MAX_TERMS, not looked at

    @property
    def matches(self) -> tuple[Candidate, ...]:
        """The skills found, once each, in the order they were typed."""
        seen: dict[str, Candidate] = {}
        for resolution in self.resolutions:
            if resolution.match is not None:
                seen.setdefault(resolution.match.slug, resolution.match)
        return tuple(seen.values())

    @property
    def unknown(self) -> tuple[Resolution, ...]:
        return tuple(r for r in self.resolutions if r.kind is MatchKind.UNKNOWN)

    @property
    def ambiguous(self) -> tuple[Resolution, ...]:
        return tuple(r for r in self.resolutions if r.kind is MatchKind.AMBIGUOUS)

    @property
    def fuzzy(self) -> tuple[Resolution, ...]:
        return tuple(r for r in self.resolutions if r.kind is MatchKind.FUZZY)


class NameIndex:
    """Names and aliases of one kind of thing (roles or skills), ready to resolve against."""

    def __init__(
        self,
        entries: Iterable[tuple[Candidate, Iterable[str]]],
        *,
        scan_all_below: int = SCAN_ALL_BELOW,
    ) -> None:
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
        # "nodejs" for "node js", "pytorch" for "py torch": spacing is not a difference,
        # unless two different things share the squeezed spelling.
        self._by_compact: dict[str, Candidate | None] = {}
        for key, candidate in self._choices:
            compact = key.replace(" ", "")
            known = self._by_compact.get(compact, candidate)
            self._by_compact[compact] = candidate if known == candidate else None
        self._memo: dict[str, Resolution] = {}
        self._answers: dict[str, Resolution] = {}
        self._slugs: dict[str, Candidate] = {}
        self._longest_name_words = max((len(k.split()) for k in self._choice_keys), default=1)
        self._scan_all = len(self._choices) < scan_all_below
        self._lengths = np.array([len(key) for key in self._choice_keys], dtype=np.int32)
        self._postings: dict[str, np.ndarray] = {}
        self._sorted_keys: list[tuple[str, int]] = []
        if not self._scan_all:
            postings: dict[str, list[int]] = {}
            for position, key in enumerate(self._choice_keys):
                for gram in _trigrams(key):
                    postings.setdefault(gram, []).append(position)
            self._postings = {g: np.array(p, dtype=np.int32) for g, p in postings.items()}
            self._sorted_keys = sorted(
                (key, position) for position, key in enumerate(self._choice_keys)
            )

    def __len__(self) -> int:
        return len({candidate.slug for _, candidate in self._choices})

    def by_slug(self, slug: str) -> Candidate | None:
        """The candidate with this slug (what a modal or button sends back), if it exists."""
        if not self._slugs:
            self._slugs = {candidate.slug: candidate for _, candidate in self._choices}
        return self._slugs.get(slug)

    def resolve(self, text: str) -> Resolution:
        # Most requests name a role or skill as typed before (from buttons, or the same words
        # again): the answer for the exact text is kept (bounded), skipping its normalization.
        answer = self._answers.get(text)
        if answer is None:
            if len(self._answers) > MEMO_SIZE:
                self._answers.clear()
            answer = self._answers[text] = self._resolve(text)
        return answer

    def _resolve(self, text: str) -> Resolution:
        query = normalize_name(text)
        if not query:
            return Resolution(text, MatchKind.UNKNOWN)
        known = self._known(text, query)
        if known is not None:
            return known
        # A term is often looked at twice (to decide how to split it), and people retype the
        # same slips; answers depend only on the normalized text, so they are kept (bounded).
        remembered = self._memo.get(query)
        if remembered is None:
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()
            remembered = self._memo[query] = self._fuzzy(text, query)
        return replace(remembered, query=text)

    def resolve_terms(self, text: str, *, limit: int = MAX_TERMS) -> TermsResolution:
        """Resolve a free-text list ("python, pytorch, k8s, some langchain and aws")."""
        terms = split_terms(text[:MAX_TEXT])
        resolutions: list[Resolution] = []
        left_out: list[str] = []
        for term in terms:
            for part in self._parts(term):
                if len(resolutions) >= limit:
                    left_out.append(part)
                else:
                    resolutions.append(self.resolve(part))
        return TermsResolution(tuple(resolutions), tuple(left_out))

    def suggest(self, text: str, limit: int = 20) -> list[Candidate]:
        """Candidates for type-ahead: names starting with what was typed, then close ones."""
        query = normalize_name(text)
        if not query:
            return []
        found: dict[str, Candidate] = {}
        known = self._known(text, query)
        if known is not None and known.match is not None:
            found[known.match.slug] = known.match
        for _key, candidate in self._starting_with(query, limit * 4):
            found.setdefault(candidate.slug, candidate)
            if len(found) >= limit:
                break
        if len(found) < limit and len(query) >= 2:
            resolution = self._fuzzy(text, query)
            for candidate in (
                *((resolution.match,) if resolution.match else ()),
                *resolution.suggestions,
            ):
                found.setdefault(candidate.slug, candidate)
        return list(found.values())[:limit]

    # Exact names and aliases -------------------------------------------------------------

    def _known(self, text: str, query: str) -> Resolution | None:
        if query in self._by_name:
            return Resolution(text, MatchKind.EXACT, self._by_name[query])
        if query in self._by_alias:
            return Resolution(text, MatchKind.ALIAS, self._by_alias[query])
        compact = self._by_compact.get(query.replace(" ", ""))
        if compact is not None:
            return Resolution(text, MatchKind.ALIAS, compact)
        return None

    def _is_known(self, text: str) -> bool:
        query = normalize_name(text)
        return bool(query) and self._known(text, query) is not None

    # Splitting one term into several -----------------------------------------------------

    def _parts(self, term: str) -> list[str]:
        """One typed term as the skills it names: "pytorch/tensorflow", "python docker"."""
        stripped = self._without_filler(term)
        if self._is_known(stripped):
            return [stripped]
        pieces = [p for p in _CONJUNCTIONS.split(term) if normalize_name(p)]
        if len(pieces) > 1 and any(self._is_known(self._without_filler(p)) for p in pieces):
            return [part for piece in pieces for part in self._parts(piece)]
        words = normalize_name(stripped).split()
        if len(words) < 2 or self.resolve(stripped).kind is MatchKind.FUZZY:
            return [stripped]
        segments = self._segments(words)
        # Split "python docker kubernets" only when every piece names a skill: "go to market"
        # must stay one (unknown) phrase, never become the language Go plus stray words.
        if len(segments) < 2 or not all(
            known or self.resolve(text).match is not None for text, known in segments
        ):
            return [stripped]
        return [text for text, _ in segments]

    def _without_filler(self, term: str) -> str:
        """The term with filler words peeled off, stopping as soon as it is a known name."""
        term = term.strip(_PUNCTUATION)
        while not self._is_known(term):
            shorter = _peel(term)
            if shorter == term:
                break
            term = shorter
        return term

    def _segments(self, words: list[str]) -> list[tuple[str, bool]]:
        """Longest known names first, left to right; the words between them stay together."""
        segments: list[tuple[str, bool]] = []
        loose: list[str] = []
        start = 0
        while start < len(words):
            for end in range(min(len(words), start + self._longest_name_words), start, -1):
                phrase = " ".join(words[start:end])
                if self._known(phrase, phrase) is not None:
                    if loose:
                        segments.append((" ".join(loose), False))
                        loose = []
                    segments.append((phrase, True))
                    start = end
                    break
            else:
                loose.append(words[start])
                start += 1
        if loose:
            segments.append((" ".join(loose), False))
        return segments

    # Fuzzy matching ------------------------------------------------------------------------

    def _fuzzy(self, text: str, query: str) -> Resolution:
        scored = self._scored(query)
        best_by_slug: dict[str, tuple[float, Candidate]] = {}
        # Names a word of which starts with what was typed ("ai" -> "AI Engineer").
        prefixed: set[str] = set()
        for score, position in scored:
            key, candidate = self._choices[position]
            if candidate.slug not in best_by_slug or best_by_slug[candidate.slug][0] < score:
                best_by_slug[candidate.slug] = (score, candidate)
            if any(word.startswith(query) for word in key.split()):
                prefixed.add(candidate.slug)
        ranked = sorted(best_by_slug.values(), key=lambda item: (-item[0], item[1].name))
        suggestions = tuple(candidate for _, candidate in ranked[:MAX_SUGGESTIONS])
        if not ranked or ranked[0][0] < FUZZY_CUTOFF or len(query) < MIN_FUZZY_LENGTH:
            relevant = tuple(
                candidate
                for score, candidate in ranked[:MAX_SUGGESTIONS]
                if score >= RELEVANT_CUTOFF or candidate.slug in prefixed
            )
            return Resolution(text, MatchKind.UNKNOWN, suggestions=relevant)
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < AMBIGUITY_MARGIN:
            # The close contenders only: the person picks between them.
            contenders = tuple(
                candidate
                for score, candidate in ranked[:MAX_SUGGESTIONS]
                if score >= ranked[0][0] - 2 * AMBIGUITY_MARGIN
            )
            return Resolution(text, MatchKind.AMBIGUOUS, suggestions=contenders)
        return Resolution(text, MatchKind.FUZZY, ranked[0][1], suggestions)

    def _scored(self, query: str) -> list[tuple[float, int]]:
        """(score, choice position) of the choices worth scoring, best first."""
        if self._scan_all:
            found = process.extract(
                query,
                self._choice_keys,
                scorer=_score,
                limit=MAX_SUGGESTIONS * 4,
                score_cutoff=SUGGESTION_CUTOFF,
            )
            return [(float(score), position) for _key, score, position in found]
        positions = self._trigram_candidates(query) | self._prefix_candidates(query)
        scored = []
        for position in positions:
            score = _score(query, self._choice_keys[position])
            if score >= SUGGESTION_CUTOFF:
                scored.append((score, position))
        return heapq.nlargest(MAX_SUGGESTIONS * 4, scored)

    def _trigram_candidates(self, query: str) -> set[int]:
        """The choices sharing most trigrams with the query, those of a matchable length first."""
        postings = [self._postings[g] for g in _trigrams(query) if g in self._postings]
        if not postings:
            return set()
        shared = np.bincount(np.concatenate(postings), minlength=len(self._choice_keys))
        # A slip of the keyboard spoils at most three trigrams; names sharing under half of
        # the best overlap are not worth scoring.
        promising = np.flatnonzero(shared >= max(1, (int(shared.max()) + 1) // 2))
        lengths = self._lengths[promising]
        low, high = len(query) * _LENGTH_FLOOR, len(query) * _LENGTH_CEILING
        # Twice the shared trigrams, plus one for a length that can reach the cut-off.
        priority = shared[promising] * 2 + ((lengths >= low) & (lengths <= high))
        if len(promising) > TRIGRAM_CANDIDATES:
            best = np.argpartition(priority, len(priority) - TRIGRAM_CANDIDATES)
            promising = promising[best[-TRIGRAM_CANDIDATES:]]
        return {int(position) for position in promising}

    def _prefix_candidates(self, query: str) -> set[int]:
        """Choices the abbreviation rule can score high ("ai eng" -> "ai engineer")."""
        if len(query.split()) < 2:
            return set()
        return {position for _key, position in self._prefix_range(query.split()[0], 500)}

    def _prefix_range(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        if self._scan_all:
            return [
                (key, position)
                for position, key in enumerate(self._choice_keys)
                if key.startswith(prefix)
            ][:limit]
        start = bisect.bisect_left(self._sorted_keys, (prefix, -1))
        found = []
        for key, position in self._sorted_keys[start : start + limit]:
            if not key.startswith(prefix):
                break
            found.append((key, position))
        return found

    def _starting_with(self, query: str, limit: int) -> list[tuple[str, Candidate]]:
        matches = self._prefix_range(query, limit)
        # Shorter names first: "python" before "python testing" when typing "pyt".
        matches.sort(key=lambda item: (len(item[0]), item[0]))
        return [(key, self._choices[position][1]) for key, position in matches]


def split_terms(text: str) -> list[str]:
    """A free-text skill list as its terms, as typed (filler is peeled off per term later)."""
    return [term.strip() for term in _SEPARATORS.split(text) if normalize_name(term)]


def strip_filler(term: str) -> str:
    """ "some langchain" -> "langchain", "5 years experience with python" -> "python"."""
    term = term.strip(_PUNCTUATION)
    while (shorter := _peel(term)) != term:
        term = shorter
    return term


def _peel(term: str) -> str:
    """One filler word or phrase fewer, unless nothing would be left."""
    shorter = _TRAILING.sub("", _FILLER.sub("", term, count=1)).strip(_PUNCTUATION)
    return shorter if normalize_name(shorter) else term


def _trigrams(key: str) -> set[str]:
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _score(query: str, choice: str, *, score_cutoff: float | None = None) -> float:
    """Whole-string similarity, with a prefix bonus for abbreviated words ("ai eng")."""
    whole = fuzz.ratio(query, choice)
    # "ai eng" -> "ai engineer": every word of the query starts a word of the choice, in order.
    # Only for several words: one shortened word ("java") is too often another name's start
    # ("javascript"); and of two letters or more: "c te" is not "communicate technical".
    query_words, choice_words = query.split(), choice.split()
    if (
        len(query) >= 3
        and len(query_words) >= 2
        and min(len(word) for word in query_words) >= 2
        and len(query_words) == len(choice_words)
        and all(c.startswith(q) for q, c in zip(query_words, choice_words, strict=True))
    ):
        whole = max(whole, 90.0)
    return float(whole) if score_cutoff is None or whole >= score_cutoff else 0.0

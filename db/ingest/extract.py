"""Skill extraction: one compiled trie-shaped regex over every alias, checked for case and context.

Python's `re` tries the alternatives of a plain alternation one by one at each position, so
a regex built from a few thousand aliases is slow; folding them into a trie first makes each
position cost a handful of character tests. Matches are then checked against the case rules
(short names such as "R", "Go", "Spark" only as written) and each skill's `not_in` context
patterns ("go-to-market", "C-suite", "R&D").
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from db.ingest.alias_scan import AliasStarts
from db.taxonomy import Taxonomy, TaxonomySkill

# A space or hyphen inside an alias also matches none, several, or a line break:
# "fine-tuning", "fine tuning" and "finetuning" are the same phrase.
_SEPARATOR = object()
_SEPARATOR_PATTERN = r"[\s\-]*"
# Word characters on either side mean the alias is part of a longer word ("Golang", "array").
# The scan runs on lower-cased text, so the left side is one consumed character that is not a
# word character: a pattern that starts with a character class lets the regex engine skip
# ahead to the next such character instead of trying every alias at every position. The
# text gets a line break in front, so an alias can also start it.
_LEFT = r"[^a-z0-9_]"
_RIGHT = r"(?![A-Za-z0-9_+#])"
_CONTEXT = 30  # characters either side of a mention searched by its not_in patterns

Trie = dict[object, "Trie"]


_NO_SEPARATORS = str.maketrans("", "", " \t\r\n\f\v-")


def _key(text: str) -> str:
    return text.translate(_NO_SEPARATORS)


def _tokens(alias: str) -> list[object]:
    tokens: list[object] = []
    for char in alias:
        if char.isspace() or char == "-":
            if tokens and tokens[-1] is not _SEPARATOR:
                tokens.append(_SEPARATOR)
        else:
            tokens.append(char)
    return tokens


def _render(node: Trie) -> str:
    is_end = None in node
    branches: list[str] = []
    single_chars: list[str] = []
    for token, child in node.items():
        if token is None:
            continue
        if token is _SEPARATOR:
            branches.append(_SEPARATOR_PATTERN + _render(child))
            continue
        assert isinstance(token, str)
        rest = _render(child)
        if rest == "" and list(child) == [None]:
            single_chars.append(token)
        else:
            branches.append(re.escape(token) + rest)
    if single_chars:
        chars = "".join(re.escape(c) for c in single_chars)
        branches.append(chars if len(single_chars) == 1 else f"[{chars}]")
    if not branches:
        return ""
    if len(branches) == 1:
        body = branches[0]
        # Greedy: the longest alias wins, the shorter one is the fallback.
        return f"(?:{body})?" if is_end else body
    body = "(?:" + "|".join(branches) + ")"
    return body + "?" if is_end else body


# Letters that start English words most often, first. The regex engine tries the first
# level's branches in order at every word, and only one of them can match (each starts
# with its own character), so this order changes nothing but the time spent on ordinary
# words.
_COMMON_FIRST = {char: rank for rank, char in enumerate("tawsoicbpfmhdrelngyuvjkqzx")}


def chunks(alias: str) -> tuple[str, ...]:
    """The runs of characters between an alias's separators ("fine-tuning": fine, tuning)."""
    runs = [""]
    for token in _tokens(alias):
        if token is _SEPARATOR:
            runs.append("")
        else:
            runs[-1] += str(token)
    return tuple(runs)


def trie_pattern(aliases: Iterable[str]) -> str:
    root: Trie = {}
    for alias in aliases:
        node = root
        for token in _tokens(alias):
            node = node.setdefault(token, {})
        node[None] = {}
    first = sorted(
        root.items(),
        key=lambda item: _COMMON_FIRST.get(item[0], 99) if isinstance(item[0], str) else 100,
    )
    return _render(dict(first))


# The regular-expression parser, to read which literal text a guard pattern needs. Private
# (hence looked up by name); if it ever goes, guards are simply searched every time.
try:
    _sre_parser: Any = importlib.import_module("re._parser")
    _sre_constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - a Python without them
    _sre_parser = _sre_constants = None

# (slug, allowed spellings or None, guard or None, implied slugs, spelling has separators)
_Resolved = tuple[str, frozenset[str] | None, "_Guard | None", tuple[str, ...], bool]
_UNSEEN: Any = object()


@dataclass(frozen=True, slots=True)
class Match:
    skill: TaxonomySkill
    start: int
    end: int


def _scoped(pattern: str) -> str:
    """A pattern as one alternative of a larger regex: a leading (?i) becomes a scoped group."""
    if pattern.startswith("(?i)"):
        return "(?i:" + pattern[4:] + ")"
    return "(?:" + pattern + ")"


class SkillExtractor:
    """Finds the taxonomy's skills in free text: whole phrases, one result per skill."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._caseless: dict[str, TaxonomySkill] = {}
        self._exact: dict[str, TaxonomySkill] = {}
        # One table for both kinds: exact aliases are looked up lower-cased too, then their
        # spelling in the text is checked against the forms that are allowed.
        self._table: dict[str, tuple[TaxonomySkill, frozenset[str] | None]] = {}
        patterns: list[str] = []
        for skill in taxonomy.skills:
            for alias in skill.aliases:
                lowered = alias.lower()
                self._table[_key(lowered)] = (skill, None)
                patterns.append(lowered)
                # Plurals of ordinary phrases ("vector databases", "AI agents").
                if len(lowered) >= 4 and lowered[-1].isalpha() and lowered[-1] != "s":
                    patterns.append(lowered + "s")
        exact_forms: dict[str, set[str]] = {}
        exact_owner: dict[str, TaxonomySkill] = {}
        for skill in taxonomy.skills:
            for alias in skill.exact:
                key = _key(alias.lower())
                exact_forms.setdefault(key, set()).add(_key(alias))
                exact_owner.setdefault(key, skill)
                patterns.append(alias.lower())
        for key, forms in exact_forms.items():
            # A caseless alias of the same letters wins: it matches whatever the case.
            self._table.setdefault(key, (exact_owner[key], frozenset(forms)))
        # One pass over the lower-cased text with a trie-shaped pattern of every alias; the
        # alias is group 1, after the character that bounds it on the left.
        self._regex = re.compile(_LEFT + "(" + trie_pattern(patterns) + ")" + _RIGHT)
        # Where the regex can match, found in one pass (see alias_scan); the regex is then
        # tried only where the automaton cannot tell which alias it is.
        self._starts = AliasStarts(chunks(pattern) for pattern in patterns)
        # Each skill's not_in patterns as one regex, searched only around a mention.
        self._guards = {
            skill.slug: _Guard(skill.not_in) for skill in taxonomy.skills if skill.not_in
        }
        by_name = {skill.name: skill for skill in taxonomy.skills}
        self._implied = {
            skill.slug: tuple(by_name[name] for name in skill.implies)
            for skill in taxonomy.skills
            if skill.implies
        }
        # What the hot loop needs per matched text, in one lookup: (slug, allowed spellings or
        # None, context guard or None, implied slugs). Filled lazily: a mention's spelling
        # ("fine-tuning", "fine tuning") is resolved once, then found directly.
        self._resolved: dict[str, _Resolved | None] = {}
        self._search = self._regex.search
        self._match = self._regex.match

    def matches(self, text: str) -> list[Match]:
        """Every accepted mention in order (leftmost, longest alias first, no overlaps)."""
        return [Match(skill, start, end) for skill, start, end in self._mentions(text)]

    def _mentions(self, text: str) -> Iterator[tuple[TaxonomySkill, int, int]]:
        # The hot loop of ingestion: plain tuples and local names on purpose.
        lowered = _lowered(text)
        table = self._table
        guards = self._guards
        for found, start, end in self._hits(lowered):
            entry = table.get(found)
            if entry is None:
                key = found.translate(_NO_SEPARATORS)
                entry = table.get(key) or table.get(key[:-1])
                if entry is None:
                    continue
            skill, forms = entry
            if forms is not None and text[start:end].translate(_NO_SEPARATORS) not in forms:
                continue  # "go", "spark", "rust" in lower case are ordinary words
            guard = guards.get(skill.slug)
            if guard is not None and guard.covers(text, start, end):
                continue  # "go-to-market", "C-suite", "R&D"
            yield skill, start, end

    def _hits(self, lowered: str) -> Iterator[tuple[str, int, int]]:
        """(alias as written, start, end) of each alias found in `_lowered` text, in order.

        The same hits as `_searched_hits`, found from the automaton's candidate starts.
        """
        match = self._match
        position = 0
        starts = self._starts.starts(lowered)
        for start in sorted(starts):
            if start < position:
                continue  # inside the previous hit
            spelling = starts[start]
            if spelling is None:
                hit = match(lowered, start)
                if hit is None:
                    continue
                spelling = hit.group(1)
            end = start + 1 + len(spelling)
            yield spelling, start, end - 1
            position = end - 1

    def _searched_hits(self, lowered: str) -> Iterator[tuple[str, int, int]]:
        """What `_hits` finds, by searching with the regex alone: the definition.

        The same hits as a search for every alias at every word start: each search starts at
        the last character of the previous hit, the character that bounds the next one.
        """
        search = self._search
        position = 0
        while (hit := search(lowered, position)) is not None:
            start, end = hit.span(1)
            yield hit.group(1), start - 1, end - 1
            position = end - 1

    def skills(self, text: str) -> list[TaxonomySkill]:
        """The skills mentioned in the text (and those they imply), each once, in order."""
        seen: dict[str, TaxonomySkill] = {}
        for skill, _, _ in self._mentions(text):
            if skill.slug not in seen:
                seen[skill.slug] = skill
        implied = self._implied
        for slug in [s for s in seen if s in implied]:
            for other in implied[slug]:
                seen.setdefault(other.slug, other)
        return list(seen.values())

    def skill_slugs(self, text: str) -> tuple[str, ...]:
        """Sorted slugs of the skills mentioned: the compact form ads are stored with.

        The same answer as `skills`, in the one loop ingestion runs for every ad: plain
        tuples, a dict lookup per mention, context checked only for guarded skills.
        """
        lowered = _lowered(text)
        match = self._match
        resolved = self._resolved
        found: set[str] = set()
        implied: list[tuple[str, ...]] = []
        position = 0
        starts = self._starts.starts(lowered)
        # `_hits`, written out: a generator costs more than the rest of this loop.
        for start in sorted(starts):
            if start < position:
                continue  # inside the previous hit
            spelling = starts[start]
            if spelling is None:
                hit = match(lowered, start)
                if hit is None:
                    continue
                spelling = hit.group(1)
            position = end = start + len(spelling)
            entry = resolved.get(spelling, _UNSEEN)
            if entry is _UNSEEN:
                entry = self._resolve(spelling)
            if entry is None:
                continue
            slug, forms, guard, implies, separated = entry
            if slug in found:
                continue  # already accepted: another mention changes nothing
            if forms is not None or guard is not None:
                if forms is not None:
                    written = text[start:end]
                    if separated:
                        written = written.translate(_NO_SEPARATORS)
                    if written not in forms:
                        continue  # "go", "spark", "rust" in lower case are ordinary words
                if guard is not None and guard.covers(text, start, end):
                    continue  # "go-to-market", "C-suite", "R&D"
            found.add(slug)
            if implies:
                implied.append(implies)
        for slugs in implied:
            found.update(slugs)
        return tuple(sorted(found))

    def _resolve(self, spelling: str) -> _Resolved | None:
        table = self._table
        entry = table.get(spelling)
        if entry is None:
            key = spelling.translate(_NO_SEPARATORS)
            entry = table.get(key) or table.get(key[:-1])
        resolved: _Resolved | None = None
        if entry is not None:
            skill, forms = entry
            implies = tuple(other.slug for other in self._implied.get(skill.slug, ()))
            separated = _key(spelling) != spelling
            resolved = (skill.slug, forms, self._guards.get(skill.slug), implies, separated)
        if len(self._resolved) < 100_000:  # spellings are few; the bound is only a safeguard
            self._resolved[spelling] = resolved
        return resolved


def _lowered(text: str) -> str:
    """The text lower-cased, offsets kept, after a line break (offsets in it are one more)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # A few characters change length when lower-cased (e.g. "İ"); keep offsets aligned.
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return "\n" + lowered


def _overlaps(guard: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether a context pattern around a mention covers part of it."""
    for context in guard.finditer(text, max(0, start - _CONTEXT), end + _CONTEXT):
        if context.start() < end and start < context.end():
            return True
    return False


# Literal text a match of a pattern must contain: every group holds alternatives, one of
# which must be present ("R&D" needs "R", "&" and "D"; "C-suite" needs one of "suite", ...).
_Needs = tuple[tuple[str, ...], ...]


def _literal_needs(pattern: re.Pattern[str]) -> tuple[_Needs, bool] | None:
    """What any match of the pattern contains, and whether case is ignored; None if unknown."""
    if _sre_parser is None:
        return None
    try:
        items = list(_sre_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # a private module: if it ever changes, the guard simply runs every time
        return None
    if "(?<" in pattern.pattern:
        return None  # a lookbehind may look outside the context window; keep it simple
    needs: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, value in items:
        if op is _sre_constants.LITERAL:
            run.append(chr(value))
            continue
        if run:
            needs.append(("".join(run),))
            run = []
        if op is _sre_constants.BRANCH:
            alternatives = value[1]
            words = []
            for alternative in alternatives:
                ops = list(alternative)
                if not ops or any(o is not _sre_constants.LITERAL for o, _ in ops):
                    break
                words.append("".join(chr(v) for _, v in ops))
            else:
                needs.append(tuple(words))
    if run:
        needs.append(("".join(run),))
    caseless = bool(pattern.flags & re.IGNORECASE)
    if caseless:
        needs = [tuple(word.lower() for word in group) for group in needs]
    return tuple(needs), caseless


class _Guard:
    """A skill's not_in patterns, searched around a mention as one alternation.

    Searching every position of the context with every pattern is the costly part of
    extraction, so patterns whose literal text is absent from the context are left out
    first: they cannot match there, and the alternation of the rest finds the same matches.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self.patterns = tuple(patterns)
        self._everything = (1 << len(self.patterns)) - 1
        self._compiled: dict[int, re.Pattern[str]] = {}
        # Every literal once, as a bit; each pattern as the groups of bits it needs (one bit
        # of every group present), or None when it must always be searched.
        words: dict[tuple[str, bool], int] = {}
        self._requirements: list[tuple[int, ...] | None] = []
        for pattern in self.patterns:
            known = _literal_needs(pattern)
            if known is None:
                self._requirements.append(None)
                continue
            needs, caseless = known
            groups = []
            for group in needs:
                bits = 0
                for word in group:
                    bits |= words.setdefault((word, caseless), 1 << len(words))
                groups.append(bits)
            self._requirements.append(tuple(groups))
        self._caseless_words = [(word, bit) for (word, caseless), bit in words.items() if caseless]
        self._exact_words = [(word, bit) for (word, caseless), bit in words.items() if not caseless]
        self._mask_of: dict[int, int] = {}  # literals present -> patterns that can match

    def _union(self, mask: int) -> re.Pattern[str]:
        compiled = self._compiled.get(mask)
        if compiled is None:
            chosen = [p for i, p in enumerate(self.patterns) if mask >> i & 1]
            compiled = re.compile("|".join(_scoped(p.pattern) for p in chosen))
            self._compiled[mask] = compiled
        return compiled

    def covers(self, text: str, start: int, end: int) -> bool:
        """Whether one of the patterns matches over part of text[start:end]."""
        window = text[max(0, start - _CONTEXT) : end + _CONTEXT]
        mask = self._everything
        # Caseless matching also folds a few non-ASCII letters ("ſ" is "s"): test only ASCII.
        if window.isascii():
            present = 0
            if self._caseless_words:
                lowered = window.lower()
                for word, bit in self._caseless_words:
                    if word in lowered:
                        present |= bit
            for word, bit in self._exact_words:
                if word in window:
                    present |= bit
            mask = self._mask_of.get(present, -1)
            if mask < 0:
                mask = self._patterns_needing(present)
                if len(self._mask_of) < 4096:  # combinations are few; the bound is a safeguard
                    self._mask_of[present] = mask
            if not mask:
                return False
        return _overlaps(self._union(mask), text, start, end)

    def _patterns_needing(self, present: int) -> int:
        """The patterns (as bits) whose literal text is all among the literals present."""
        mask = 0
        for index, groups in enumerate(self._requirements):
            if groups is None or all(present & bits for bits in groups):
                mask |= 1 << index
        return mask


class NaiveExtractor:
    """The baseline the benchmark compares with: one case-insensitive regex per alias."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._patterns = [
            (re.compile(r"\b" + re.escape(alias) + r"\b", re.IGNORECASE), skill.slug)
            for skill in taxonomy.skills
            for alias in (*skill.aliases, *skill.exact)
        ]

    def skill_slugs(self, text: str) -> tuple[str, ...]:
        return tuple(sorted({slug for pattern, slug in self._patterns if pattern.search(text)}))
